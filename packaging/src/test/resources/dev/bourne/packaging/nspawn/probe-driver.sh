# The harness's own proof: starts a hardened Type=simple unit as a service manager would, checks what the hardening
# lets it do, stops it and checks its runtime directory went away. No Bourne code involved.
. /e2e/lib.sh

step systemd
record systemd.version "$(systemctl --version | head -n 1)"
record system.state "$(systemctl is-system-running)"

step start
must systemctl start bourne-probe.service
wait_until 10 "the probe wrote its report" test -s /run/bourne-probe/report
unit_facts bourne-probe.service
record probe.user "$(ps -o user= -p "$(systemctl show -P MainPID bourne-probe.service)")"
sed 's/^/probe./' /run/bourne-probe/report >> "$RESULTS/values"

step stop
must systemctl stop bourne-probe.service
record probe.stopped "$(systemctl is-active bourne-probe.service)"
record probe.runtime_dir_left "$(test -e /run/bourne-probe && echo yes || echo no)"

pass
