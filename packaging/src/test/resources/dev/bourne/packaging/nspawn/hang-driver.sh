# A driver that never finishes: the harness must stop the container at its deadline and leave nothing running.
. /e2e/lib.sh
step hang
exec sleep infinity
