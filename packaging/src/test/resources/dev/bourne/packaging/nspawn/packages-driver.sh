# End to end on a booted systemd, as an operator following docs/install.md would: install the bourne-server,
# bourne-agent and bourne-vendordata RPMs (scriptlets on), initialise a SoftHSM2 token for the server, start the server
# as shipped, join an agent with a token, start it as shipped, fetch an X.509-SVID as a registered workload, start the
# IID signing service on its own token and sign a document as Nova would ask, stop them all and check nothing is left
# behind. Inputs: the RPMs in /rpms. The units are never edited: configuration goes only where the units read
# it (/etc/bourne, /etc/sysconfig).
#
# No secret (HSM PIN, SO PIN, join token) is ever printed: they go to files or command arguments only.
. /e2e/lib.sh

TD=example.org
SERVER_SOCKET=/run/bourne/server/private/api.sock
AGENT_SOCKET=/run/bourne/agent/public/api.sock
export PATH=/usr/sbin:/usr/bin:/sbin:/bin

# as USER COMMAND...: runs COMMAND as USER with its groups (runuser does initgroups) and a clean environment.
as() {
    local user="$1"
    shift
    runuser -u "$user" -- env -i PATH="$PATH" HOME=/ "$@"
}

# main_pid_status UNIT FIELD: a field of /proc/<main pid>/status of the unit's main process.
main_pid_status() {
    local pid
    pid=$(systemctl show -P MainPID "$1")
    awk -v f="$2:" '$1 == f { $1 = ""; sub(/^ /, ""); print }' "/proc/$pid/status"
}

# mode_owner PATH: "<octal mode> <user>:<group>"
mode_owner() {
    stat -c '%a %U:%G' "$1"
}

# start_unit NAME: starts bourne-NAME.service and records NAME.start_seconds, the unit's facts and NAME.user.
# Type=notify: systemctl start returns once the JVM sent READY=1 (or fails at TimeoutStartSec=).
start_unit() {
    local unit="bourne-$1.service" start=$SECONDS
    timeout 120 systemctl start "$unit" || fail "systemctl start bourne-$1 failed or timed out"
    record "$1.start_seconds" "$((SECONDS - start))"
    unit_facts "$unit"
    record "$1.user" "$(ps -o user= -p "$(systemctl show -P MainPID "$unit")")"
}

on_failure_dump() {
    if [ "$(cat "$RESULTS/status")" != ok ]; then
        echo "---- systemctl status (on failure)"
        systemctl status --no-pager --full bourne-server.service bourne-agent.service bourne-vendordata.service 2>&1 | tail -n 80
    fi
}
trap on_failure_dump EXIT

step install
# RHEL's policy (its systemd ships 99-default-disable.preset): services are enabled only when a preset says so. Debian
# has no such file and enables every preset unit; the container follows RHEL, where the RPMs are meant to run.
install -d /etc/systemd/system-preset
echo 'disable *' > /etc/systemd/system-preset/99-default-disable.preset
ls -l /rpms
rpm -ivh --nodeps /rpms/*.rpm || fail "rpm -ivh --nodeps exited with $? (output above)"
record rpm.installed "$(rpm -qa --qf '%{NAME} ' 'bourne*' | xargs -n1 | sort | xargs)"
for u in bourne-server bourne-agent bourne-vendordata; do
    getent passwd "$u" >/dev/null || fail "the RPM scriptlets did not create the user $u"
done
record user.bourne-server.groups "$(id -Gn bourne-server | xargs -n1 | sort | xargs)"
record user.bourne-agent.groups "$(id -Gn bourne-agent | xargs -n1 | sort | xargs)"
record server.enabled "$(systemctl is-enabled bourne-server.service 2>&1)"
record agent.enabled "$(systemctl is-enabled bourne-agent.service 2>&1)"
record config.server "$(mode_owner /etc/bourne/server.conf)"
record config.agent "$(mode_owner /etc/bourne/agent.conf)"
record server.active_after_install "$(systemctl is-active bourne-server.service)"

step shipped-config-refused
# Before the operator fills in the FILL IN lines, the service must refuse to start and say why in the journal.
timeout 60 systemctl start bourne-server.service > /dev/null 2>&1
record server.unconfigured_start_exit "$?"
record server.unconfigured_error "$(journalctl --no-pager -q -o cat -u bourne-server.service -p err | grep -m1 'trust_domain' \
    | cut -c1-200)"
systemctl stop bourne-server.service > /dev/null 2>&1
systemctl reset-failed bourne-server.service > /dev/null 2>&1

step softhsm-token
# The token lives under the server's state directory (the one place ProtectSystem=strict lets it write), created as
# bourne-server; the server finds it through SOFTHSM2_CONF, set in /etc/sysconfig/bourne-server (the unit's
# EnvironmentFile). The user PIN goes in /etc/bourne/hsm.pin, 0600, owned by the server's user.
lib=""
for candidate in /usr/lib64/pkcs11/libsofthsm2.so /usr/lib/softhsm/libsofthsm2.so \
        /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so /usr/lib64/softhsm/libsofthsm2.so; do
    if [ -e "$candidate" ]; then lib=$candidate; break; fi
done
[ -n "$lib" ] || fail "no libsofthsm2.so found (install softhsm2 / softhsm)"
install -d -m 0750 -o bourne-server -g bourne /var/lib/bourne/server
install -d -m 0700 -o bourne-server -g bourne /var/lib/bourne/server/softhsm /var/lib/bourne/server/softhsm/tokens
install -m 0640 -o root -g bourne /dev/stdin /etc/bourne/softhsm2.conf <<'EOF'
directories.tokendir = /var/lib/bourne/server/softhsm/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
EOF
install -d -m 0755 /etc/sysconfig
printf 'SOFTHSM2_CONF=/etc/bourne/softhsm2.conf\n' >> /etc/sysconfig/bourne-server
pin=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
so_pin=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
printf '%s\n' "$pin" | install -m 0600 -o bourne-server -g bourne /dev/stdin /etc/bourne/hsm.pin
as bourne-server SOFTHSM2_CONF=/etc/bourne/softhsm2.conf softhsm2-util --init-token --free --label bourne \
    --so-pin "$so_pin" --pin "$pin" >/dev/null || fail "softhsm2-util --init-token as bourne-server failed"
unset pin so_pin

step server-config
cat > /etc/bourne/server.conf <<EOF
# Written by the end-to-end test: SQLite, join tokens, CA keys on a SoftHSM2 token.
server {
    bind_address = "127.0.0.1"
    bind_port = "8081"
    socket_path = "$SERVER_SOCKET"
    trust_domain = "$TD"
    data_dir = "/var/lib/bourne/server"
    log_level = "INFO"
    ca_ttl = "24h"
    default_x509_svid_ttl = "1h"
    audit_log_enabled = true
}

plugins {
    DataStore "sql" {
        plugin_data {
            database_type = "sqlite3"
            connection_string = "/var/lib/bourne/server/datastore.sqlite3"
        }
    }
    NodeAttestor "join_token" {
        plugin_data {
        }
    }
    KeyManager "pkcs11" {
        plugin_data {
            library = "$lib"
            token_label = "bourne"
            pin_file = "/etc/bourne/hsm.pin"
        }
    }
}

health_checks {
    listener_enabled = true
    bind_address = "127.0.0.1"
    bind_port = "8080"
    live_path = "/live"
    ready_path = "/ready"
}
EOF
record config.server_after_edit "$(mode_owner /etc/bourne/server.conf)"
as bourne-server /usr/bin/bourne-server validate -config /etc/bourne/server.conf \
    || fail "bourne-server validate refused the test's server.conf"

step server-start
start_unit server
record server.no_new_privs "$(main_pid_status bourne-server.service NoNewPrivs)"
record server.cap_bnd "$(main_pid_status bourne-server.service CapBnd)"
record server.seccomp "$(main_pid_status bourne-server.service Seccomp)"
[ -S "$SERVER_SOCKET" ] || fail "the server is active but $SERVER_SOCKET is not a socket"
record server.socket "$(mode_owner "$SERVER_SOCKET")"
record server.state_dir "$(mode_owner /var/lib/bourne/server)"
record server.exposure "$(systemd-analyze security --no-pager bourne-server.service 2>/dev/null \
    | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')"

step admin-cli
# An operator: a member of group bourne, nothing more.
useradd --system --no-create-home --shell /usr/sbin/nologin --groups bourne e2e-admin || fail "useradd e2e-admin"
useradd --system --no-create-home --shell /usr/sbin/nologin e2e-workload || fail "useradd e2e-workload"
useradd --system --no-create-home --shell /usr/sbin/nologin e2e-stranger || fail "useradd e2e-stranger"
workload_uid=$(id -u e2e-workload)
as e2e-admin /usr/bin/bourne-server healthcheck > /tmp/health.out 2>&1
record server.healthcheck_exit "$?"
# Not in group bourne: the admin socket (0770 in a 0750 directory) must refuse it, even given the path.
as e2e-stranger /usr/bin/bourne-server entry count -socketPath "$SERVER_SOCKET" > /tmp/stranger.out 2>&1
record admin.stranger_exit "$?"
record admin.stranger_output "$(grep -v -i 'WARN io.netty' /tmp/stranger.out | tr '\n' ' ' | cut -c1-200)"
as e2e-admin /usr/bin/bourne-server token generate -spiffeID "spiffe://$TD/e2e/node" > /tmp/token.out \
    || fail "bourne-server token generate as a member of bourne failed"
token=$(sed -n 's/^Token: *//p' /tmp/token.out)
rm -f /tmp/token.out
[ -n "$token" ] || fail "bourne-server token generate printed no 'Token:' line"
as e2e-admin /usr/bin/bourne-server entry create -parentID "spiffe://$TD/e2e/node" \
    -spiffeID "spiffe://$TD/e2e/workload" -selector "unix:uid:$workload_uid" \
    || fail "bourne-server entry create failed"
as e2e-admin /usr/bin/bourne-server bundle show > /tmp/bundle.pem || fail "bourne-server bundle show failed"
install -m 0640 -o root -g bourne /tmp/bundle.pem /etc/bourne/bundle.pem
record server.bundle_certs "$(grep -c 'BEGIN CERTIFICATE' /etc/bourne/bundle.pem)"

step agent-config
umask 0027
cat > /etc/bourne/agent.conf <<EOF
# Written by the end-to-end test: join token, the server's bundle from \`bourne-server bundle show\`.
agent {
    data_dir = "/var/lib/bourne/agent"
    log_level = "INFO"
    trust_domain = "$TD"
    server_address = "127.0.0.1"
    server_port = "8081"
    socket_path = "$AGENT_SOCKET"
    trust_bundle_path = "/etc/bourne/bundle.pem"
    join_token = "$token"
}

plugins {
    NodeAttestor "join_token" {
        plugin_data {
        }
    }
    KeyManager "memory" {
        plugin_data {
        }
    }
    WorkloadAttestor "unix" {
        plugin_data {
        }
    }
}
EOF
umask 0022
unset token
record config.agent_after_edit "$(mode_owner /etc/bourne/agent.conf)"

step agent-start
start_unit agent
record agent.no_new_privs "$(main_pid_status bourne-agent.service NoNewPrivs)"
record agent.cap_bnd "$(main_pid_status bourne-agent.service CapBnd)"
[ -S "$AGENT_SOCKET" ] || fail "the agent is active but $AGENT_SOCKET is not a socket"
record agent.socket "$(mode_owner "$AGENT_SOCKET")"
record agent.exposure "$(systemd-analyze security --no-pager bourne-agent.service 2>/dev/null \
    | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')"
as e2e-admin /usr/bin/bourne-server agent list > /tmp/agents.txt 2>&1
record server.agents "$(grep -c "spiffe://$TD/spire/agent/join_token/" /tmp/agents.txt)"

step workload-fetch
as e2e-stranger /usr/bin/bourne-agent healthcheck > /tmp/health.out 2>&1
record agent.healthcheck_exit "$?"
# The entry was created before the agent started, so its first sync has it; retry for a few sync intervals anyway.
fetched=no
deadline=$((SECONDS + 40))
while [ "$SECONDS" -lt "$deadline" ]; do
    rm -rf /tmp/svid
    install -d -m 0700 -o e2e-workload /tmp/svid
    if as e2e-workload /usr/bin/bourne-agent api fetch x509 -write /tmp/svid > /tmp/fetch.out 2>&1; then
        fetched=yes
        break
    fi
    sleep 1
done
cat /tmp/fetch.out
[ "$fetched" = yes ] || fail "the workload (uid $workload_uid) got no X.509-SVID within 40 s (last output above)"
record workload.files "$(cd /tmp/svid && ls | xargs)"
record workload.spiffe_id "$(openssl x509 -in /tmp/svid/svid.0.pem -noout -ext subjectAltName 2>/dev/null \
    | grep -o 'URI:spiffe://[^, ]*' | head -n 1 | sed 's/^URI://')"
# A local user with no entry: attested, but no identity (PERMISSION_DENIED), so the command fails.
as e2e-stranger /usr/bin/bourne-agent api fetch x509 > /tmp/stranger.out 2>&1
record workload.stranger_exit "$?"
record workload.stranger_output "$(grep -v -i 'WARN io.netty' /tmp/stranger.out | tr '\n' ' ' | cut -c1-200)"

step vendordata
# The OpenStack IID signing service as docs/openstack.md sets it up: its own SoftHSM2 token under its state directory,
# TLS files and Nova's token in /etc/bourne/vendordata owned by bourne-vendordata, the shipped vendordata.conf with its
# FILL IN lines set by sed (nothing else changed).
install -d -m 0700 -o bourne-vendordata -g bourne-vendordata /var/lib/bourne/vendordata/softhsm \
    /var/lib/bourne/vendordata/softhsm/tokens
install -m 0640 -o root -g bourne-vendordata /dev/stdin /etc/bourne/vendordata/softhsm2.conf <<'EOF'
directories.tokendir = /var/lib/bourne/vendordata/softhsm/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
EOF
printf 'SOFTHSM2_CONF=/etc/bourne/vendordata/softhsm2.conf\n' >> /etc/sysconfig/bourne-vendordata
pin=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
so_pin=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
printf '%s\n' "$pin" | install -m 0600 -o bourne-vendordata -g bourne-vendordata /dev/stdin /etc/bourne/vendordata/hsm-pin
as bourne-vendordata SOFTHSM2_CONF=/etc/bourne/vendordata/softhsm2.conf softhsm2-util --init-token --free \
    --label bourne-vendordata --so-pin "$so_pin" --pin "$pin" >/dev/null \
    || fail "softhsm2-util --init-token as bourne-vendordata failed"
unset pin so_pin
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -days 1 -keyout /tmp/vd.key -out /tmp/vd.crt 2>/dev/null \
    || fail "openssl could not make the listener's certificate"
install -m 0644 /tmp/vd.crt /etc/bourne/vendordata/tls.crt
install -m 0600 -o bourne-vendordata /tmp/vd.key /etc/bourne/vendordata/tls.key
rm -f /tmp/vd.key
nova_token=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
printf '%s' "$nova_token" | install -m 0600 -o bourne-vendordata /dev/stdin /etc/bourne/vendordata/token
# Nova's side: the token goes in a header file, never on a command line.
printf 'Authorization: Bearer %s\n' "$nova_token" | install -m 0600 /dev/stdin /tmp/nova-auth.header
unset nova_token
sed -i -e 's|^    # issuer = .*|    issuer = "https://localhost:8443"|' \
    -e "s|^    # audience = .*|    audience = [\"spiffe://$TD/spire/server\"]|" \
    -e "s|^            # library = .*|            library = \"$lib\"|" \
    -e 's|^            # token_label = .*|            token_label = "bourne-vendordata"|' /etc/bourne/vendordata.conf
as bourne-vendordata /usr/bin/bourne-vendordata validate -config /etc/bourne/vendordata.conf \
    || fail "bourne-vendordata validate refused the shipped vendordata.conf with its FILL IN lines set"
start_unit vendordata
record vendordata.cap_bnd "$(main_pid_status bourne-vendordata.service CapBnd)"
record vendordata.exposure "$(systemd-analyze security --no-pager bourne-vendordata.service 2>/dev/null \
    | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')"
request='{"project-id": "0123456789abcdef0123456789abcdef", "instance-id": "3f2a6c1e-8f4b-4d2a-9c3e-5b6a7d8e9f01",
 "image-id": "9c1e2d3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f", "hostname": "e2e-vm", "metadata": {"role": "e2e"}}'
curl -sS --max-time 10 --cacert /etc/bourne/vendordata/tls.crt -H @/tmp/nova-auth.header \
    -H 'Content-Type: application/json' -d "$request" -o /tmp/iid.json -w '%{http_code}' \
    https://localhost:8443/v1/iid > /tmp/iid.code 2>/tmp/iid.err
record vendordata.iid_http "$(cat /tmp/iid.code)"
record vendordata.iid_claims "$(python3 -c '
import base64, json
jws = json.load(open("/tmp/iid.json"))["data"]
header, payload, signature = jws.split(".")
claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
kid = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"]
print(claims["instanceID"], claims["projectID"], claims["iss"], kid)
' 2>&1 | tr '\n' ' ' | sed 's/ $//')"
curl -sS --max-time 10 --cacert /etc/bourne/vendordata/tls.crt -o /tmp/jwks.json https://localhost:8443/v1/jwks.json \
    || fail "GET /v1/jwks.json failed"
record vendordata.jwks_kids "$(python3 -c '
import json; print(" ".join(k["kid"] for k in json.load(open("/tmp/jwks.json"))["keys"]))' 2>&1 | tr '\n' ' ' \
    | sed 's/ $//')"
# Without Nova's token: refused.
record vendordata.anonymous_http "$(curl -sS --max-time 10 --cacert /etc/bourne/vendordata/tls.crt \
    -H 'Content-Type: application/json' -d "$request" -o /dev/null -w '%{http_code}' https://localhost:8443/v1/iid)"
rm -f /tmp/nova-auth.header
timeout 60 systemctl stop bourne-vendordata.service || fail "systemctl stop bourne-vendordata failed or timed out"
record vendordata.stopped "$(systemctl is-active bourne-vendordata.service)"
record vendordata.stop_result "$(systemctl show -P Result bourne-vendordata.service)"

step pin-credential
# docs/install.md's alternative: the PIN file stays root's (0600 root:root) and systemd hands the server a private copy
# as a credential (LoadCredential= in a drop-in); server.conf then names the credential's path.
install -d -m 0755 /etc/systemd/system/bourne-server.service.d
install -m 0644 /dev/stdin /etc/systemd/system/bourne-server.service.d/hsm-pin-credential.conf <<'EOF'
[Service]
LoadCredential=hsm-pin:/etc/bourne/hsm.pin
EOF
chown root:root /etc/bourne/hsm.pin
chmod 0600 /etc/bourne/hsm.pin
sed -i 's|pin_file = "/etc/bourne/hsm.pin"|pin_file = "/run/credentials/bourne-server.service/hsm-pin"|' \
    /etc/bourne/server.conf
grep -q 'pin_file = "/run/credentials/bourne-server.service/hsm-pin"' /etc/bourne/server.conf \
    || fail "could not point server.conf at the credential"
systemctl daemon-reload
timeout 120 systemctl restart bourne-server.service || fail "bourne-server did not restart with the PIN as a credential"
record server.credential_active "$(systemctl is-active bourne-server.service)"
as e2e-admin /usr/bin/bourne-server healthcheck > /tmp/health.out 2>&1
record server.credential_healthcheck_exit "$?"
# The old PIN file is root's alone now: the service user cannot read it, only its credential copy.
as bourne-server cat /etc/bourne/hsm.pin > /dev/null 2>&1
record server.pin_file_readable_by_service_user "$([ $? -eq 0 ] && echo yes || echo no)"

step stop
timeout 60 systemctl stop bourne-agent.service || fail "systemctl stop bourne-agent failed or timed out"
record agent.stopped "$(systemctl is-active bourne-agent.service)"
record agent.stop_result "$(systemctl show -P Result bourne-agent.service)"
record agent.socket_left "$(test -e "$AGENT_SOCKET" && echo yes || echo no)"
timeout 60 systemctl stop bourne-server.service || fail "systemctl stop bourne-server failed or timed out"
record server.stopped "$(systemctl is-active bourne-server.service)"
record server.stop_result "$(systemctl show -P Result bourne-server.service)"
record server.socket_left "$(test -e "$SERVER_SOCKET" && echo yes || echo no)"
record server.journal_errors "$(journalctl --no-pager -q -p err -u bourne-server.service -u bourne-agent.service \
    -u bourne-vendordata.service | wc -l)"

pass
