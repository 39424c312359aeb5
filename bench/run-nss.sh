#!/bin/sh
# getpwnam/getpwuid through glibc: an agent (libnss_agentgate) against
# a user from /etc/passwd (nss_files), in the same run, at 10, 1,000
# and 100,000 registered agents.  Needs root (the module trusts only
# root-owned files) and unshare(1): each measurement runs in a private
# mount namespace with its own nsswitch.conf bound over the real one,
# and glibc finds a bench build of the module through LD_LIBRARY_PATH.
# Nothing outside $work and those namespaces is touched.
#
#   bench/run-nss.sh            ITER=200000 by default
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
work=${TMPDIR:-/tmp}/agentgate-nss-bench
iter=${ITER:-200000}
cc=${CC:-cc}
sizes=${SIZES:-"10 1000 100000"}
user=${FILES_USER:-root}

[ "$(id -u)" = 0 ] || { echo "run-nss.sh: needs root" >&2; exit 1; }
rm -rf "$work"
mkdir -p "$work/etc/agentgate" "$work/state" "$work/run" "$work/lib"

# The module, with its config path compiled in (as the tests do).
lib="$top/lib"
cflags="-O2 -g -D_GNU_SOURCE -I$lib -I$top/nss_module"
srcs="$lib/config.c $lib/names.c $lib/util.c $lib/userdb.c $lib/session.c"
$cc $cflags -fPIC -shared -DAG_SYSCONFDIR="\"$work/etc\"" \
	-Wl,--version-script="$top/nss_module/nss_agentgate.sym" \
	-Wl,--no-undefined -o "$work/lib/libnss_agentgate.so.2" \
	"$top/nss_module/nss_agentgate.c" "$top/nss_module/nss_state.c" \
	$srcs
$cc $cflags -o "$work/nss_bench" "$top/bench/nss_bench.c" $srcs

cat > "$work/etc/agentgate/agentgate.conf" <<EOF2
[agentgate]
state_dir = $work/state
runtime_dir = $work/run

[issuer bench]
iss = https://bench.example.test
keys = $work/etc/agentgate/none.pem
prefix = agent-
EOF2
chmod 0644 "$work/etc/agentgate/agentgate.conf"
printf 'passwd: files agentgate\ngroup: files agentgate\n' > "$work/stack.conf"
printf 'passwd: agentgate\ngroup: agentgate\n' > "$work/agent.conf"
printf 'passwd: files\ngroup: files\n' > "$work/files.conf"

# run NSSWITCH NAME: prints "ns/getpwnam ns/getpwuid"
run() {
	LD_LIBRARY_PATH="$work/lib" unshare -m sh -c \
		'mount --bind "$1" /etc/nsswitch.conf && shift &&
		exec "$@"' sh "$work/$1" "$work/nss_bench" time "$2" "$iter"
}

printf '%-8s | %-21s | %-21s | %-21s | %-21s\n' "agents" \
	"files user nam/uid" "agent alone nam/uid" "stack files user" \
	"stack agent"
printf '%-8s | %-21s | %-21s | %-21s | %-21s\n' "" "(passwd: files)" \
	"(passwd: agentgate)" "(files agentgate)" "(files agentgate)"
ok=yes
first=
for n in $sizes; do
	rm -f "$work/state/users.db"
	"$work/nss_bench" register "$work/state" "$n"
	agent=$(printf 'agent-bench-%06d' $((n / 2)))
	set -- $(run files.conf "$user") $(run agent.conf "$agent") \
		$(run stack.conf "$user") $(run stack.conf "$agent")
	printf '%-8s | %9s ns %7s ns | %9s ns %7s ns | %9s ns %7s ns | %9s ns %7s ns\n' \
		"$n" "$1" "$2" "$3" "$4" "$5" "$6" "$7" "$8"
	[ "$3" -le "$1" ] && [ "$4" -le "$2" ] || ok=no
	if [ -z "$first" ]; then
		first="$3 $4"
	else
		set -- $first "$3" "$4"
		[ "$3" -le $(($1 * 2)) ] && [ "$4" -le $(($2 * 2)) ] ||
			ok=no
	fi
done
echo
echo "iterations per cell: $iter; files user: $user"
echo "targets (agent alone <= files alone at every size; agent at the"
echo "largest size within 2x of the smallest): $ok"
