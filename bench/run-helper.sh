#!/bin/bash
# agentgated kill latency: deadline (or revocation) to last process gone,
# as agentgated measures it (latency_ms of its event=killed lines).
# Each session is a placed leader, a setsid double fork and a child
# that ignores SIGTERM, so every kill runs the whole grace period.
#
#   bench/run-helper.sh BUILDDIR [SEQUENTIAL=100] [CONCURRENT=1000]
#
# Root; runs in its own mount and pid namespaces on tmpfs.
set -u
[ "$(id -u)" = 0 ] || { echo "needs root"; exit 77; }
if [ -z "${AG_IN_NS:-}" ]; then
	AG_IN_NS=1 exec unshare -m -p --fork --mount-proc "$0" "$@"
fi
B=$(cd "${1:?usage: $0 BUILDDIR [SEQ] [CONC]}" && pwd)
SEQ=${2:-100}
CONC=${3:-1000}
GRACE=${GRACE_MS:-100}
FAKE=$B/tests/helper_fake_session
UID0=2147410000
T=$(mktemp -d /tmp/agentgate-bench.XXXXXX)
mount --make-rprivate / && mount -t tmpfs tmpfs "$T"
cat >"$T/c.conf" <<CONF
[agentgate]
state_dir = $T/state
runtime_dir = $T/run
revocation_dir = $T/revoked.d
kill_grace_ms = $GRACE

[issuer bench]
iss = https://bench.invalid
keys = $T/bench.pem
prefix = agb-
uid_range = $UID0-$((UID0 + 9999))
home_base = $T/home
CONF
"$B/helper/agentgated" --foreground --config "$T/c.conf" 2>"$T/log" &
DPID=$!
trap 'kill $DPID; wait $DPID; umount "$T"; rmdir "$T"' EXIT
sleep 0.3
newid() { head -c16 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
stats() {
	sort -n | awk -v what="$1" '{ v[NR] = $1 } END {
		p50 = v[int(NR * 0.50 + 0.5)]; p99 = v[int(NR * 0.99 + 0.5)]
		if (p99 == "") p99 = v[NR]
		printf "%s: n=%d p50=%d ms p99=%d ms max=%d ms\n",
			what, NR, p50, p99, v[NR] }'
}
lat() { grep "event=killed.*reason=$1" "$T/log" |
	sed 's/.*latency_ms=//' | tail -n "$2"; }

# Sequential: one session at a time, each expiring one second out.
for i in $(seq "$SEQ"); do
	now=$(date +%s)
	"$FAKE" spawn "$T/c.conf" "$(newid)" agb-s$i $((UID0 + i)) bench \
		j-s$i $((now + 1)) >/dev/null
	while [ "$(grep -c 'event=killed' "$T/log")" -lt "$i" ]; do
		sleep 0.05; done
done
lat expired "$SEQ" | stats "sequential expiry"

# Revocation: from agentgatectl revoke to last process gone.
for i in $(seq "$SEQ"); do
	"$FAKE" spawn "$T/c.conf" "$(newid)" agb-r$i $((UID0 + 2000 + i)) \
		bench j-r$i $(( $(date +%s) + 3600 )) >/dev/null
	t0=$(date +%s%N)
	"$B/helper/agentgatectl" revoke --config "$T/c.conf" --jti j-r$i \
		--issuer bench >/dev/null
	while ! grep -q "event=killed.*jti=j-r$i " "$T/log"; do sleep 0.01; done
	echo $(( ($(date +%s%N) - t0) / 1000000 )) >>"$T/rev"
done
stats "sequential revoke (wall, incl. agentgatectl)" <"$T/rev"

# Concurrent: CONC sessions expiring at the same second.
deadline=$(( $(date +%s) + 5 + CONC / 100 ))
pids=()
for i in $(seq "$CONC"); do
	"$FAKE" spawn "$T/c.conf" "$(newid)" agb-c$((i % 100)) \
		$((UID0 + 4000 + i % 100)) bench j-c$i $deadline >/dev/null &
	pids+=($!)
	# Not "wait": that would wait for agentgated too.
	[ $((i % 50)) = 0 ] && { wait "${pids[@]}"; pids=(); }
done
[ ${#pids[@]} -gt 0 ] && wait "${pids[@]}"
[ "$(date +%s)" -lt "$deadline" ] || echo "warning: setup overran deadline"
while [ "$(grep -c 'event=killed.*jti=j-c' "$T/log")" -lt "$CONC" ]; do
	sleep 0.2; [ "$(date +%s)" -gt $((deadline + 30)) ] && break; done
lat expired "$CONC" | stats "concurrent expiry ($CONC at one instant)"
