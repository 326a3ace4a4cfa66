# Shared by the drivers that run inside the test container (sourced; runs as root under bourne-e2e.service).
#
# Results, in $RESULTS (the test's results directory):
#   status      "ok" once the driver got to its end; otherwise "failed: <step>: <reason>"
#   steps       one line per step begun, with the seconds since the driver started
#   driver.log  everything the driver's commands printed
#   values      key=value facts the Java test asserts

set -uo pipefail
: "${RESULTS:=/results}"
E2E_STEP=start
E2E_START=$SECONDS

# Straight to the file, not through tee: when the driver exits systemd kills what is left in its cgroup, and a tee
# could lose the last lines (those that say why it failed).
exec >> "$RESULTS/driver.log" 2>&1
echo "failed: $E2E_STEP: the driver did not finish this step" > "$RESULTS/status"
: > "$RESULTS/steps"
: > "$RESULTS/values"

step() {
    E2E_STEP="$1"
    echo "failed: $E2E_STEP: the driver did not finish this step" > "$RESULTS/status"
    printf '%s %s\n' "$((SECONDS - E2E_START))" "$E2E_STEP" >> "$RESULTS/steps"
    printf '\n== %s\n' "$E2E_STEP"
}

fail() {
    echo "FAILED in step '$E2E_STEP': $*"
    echo "failed: $E2E_STEP: $*" > "$RESULTS/status"
    exit 1
}

pass() {
    echo ok > "$RESULTS/status"
    echo "== passed in $((SECONDS - E2E_START)) s"
    exit 0
}

# record KEY VALUE: a fact for the Java test.
record() {
    printf '%s=%s\n' "$1" "$2" >> "$RESULTS/values"
}

# Runs "$@" and fails the step with its exit code when it fails.
must() {
    "$@" || fail "'$*' exited with $?"
}

# wait_until SECONDS DESCRIPTION COMMAND...: retries COMMAND every 0.2 s until it succeeds, at most SECONDS.
wait_until() {
    local limit="$1" what="$2" deadline
    shift 2
    deadline=$((SECONDS + limit))
    until "$@" >/dev/null 2>&1; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            fail "timed out after ${limit} s waiting until $what"
        fi
        sleep 0.2
    done
}

# unit_facts UNIT: records the unit's state, main PID's user and exit status under UNIT.*.
unit_facts() {
    local unit="$1"
    record "$unit.active" "$(systemctl is-active "$unit")"
    record "$unit.result" "$(systemctl show -P Result "$unit")"
}
