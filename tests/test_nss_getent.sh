#!/bin/sh
# getent through nss_wrapper with a test build of the module: what
# `passwd: files agentgate` shows to ordinary programs.  Needs root
# (the module trusts only root-owned files) and libnss_wrapper.
set -eu

root="$PWD/nss-getent.d"
tool=./nss_test_tool
module="$PWD/.libs/libnss_agentgate_test.so"
wrapper=
for d in /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib; do
	[ -e "$d/libnss_wrapper.so" ] && wrapper="$d/libnss_wrapper.so" && break
done

[ "$(id -u)" = 0 ] || { echo "needs root: skipped"; exit 77; }
[ -n "$wrapper" ] || { echo "libnss_wrapper not installed: skipped"; exit 77; }
[ -e "$module" ] || { echo "no $module"; exit 99; }

# A sanitizer build of the module needs its runtime loaded first.
san=
if readelf -d "$module" | grep -q 'libasan'; then
	san="$(${CC:-cc} -print-file-name=libasan.so) \
$(${CC:-cc} -print-file-name=libubsan.so)"
	export ASAN_OPTIONS=detect_leaks=0
fi
preload="${san:+$san }$wrapper"

$tool "$root" setup
$tool "$root" register agent-reg
$tool "$root" register agent-live
$tool "$root" session agent-live 100 4242 0
$tool "$root" session agent-live 4242

cat > "$root/passwd" <<PW
root:x:0:0:root:/root:/bin/bash
alice:x:1000:1000:Alice:/home/alice:/bin/sh
PW
cat > "$root/group" <<GR
root:x:0:
alice:x:1000:
users:x:100:alice
extra:x:4242:
GR

fail=0
ge() {
	env LD_PRELOAD="$preload" \
		NSS_WRAPPER_PASSWD="$root/passwd" \
		NSS_WRAPPER_GROUP="$root/group" \
		NSS_WRAPPER_MODULE_SO_PATH="$module" \
		NSS_WRAPPER_MODULE_FN_PREFIX=agentgate \
		getent "$@"
}
expect() {
	want=$1; shift
	got=$(ge "$@" 2>&1) || true
	if [ "$got" = "$want" ]; then
		echo "ok: getent $*"
	else
		echo "FAIL: getent $*"; echo "  want: $want"; echo "  got:  $got"
		fail=1
	fi
}
expect_status() {
	want=$1; shift
	st=0; ge "$@" >/dev/null 2>&1 || st=$?
	if [ "$st" = "$want" ]; then
		echo "ok: getent $* exits $st"
	else
		echo "FAIL: getent $* exits $st, want $want"; fail=1
	fi
}

reg=$($tool "$root" uid agent-reg)
live=$($tool "$root" uid agent-live)
new=$($tool "$root" uid agent-new)
gecos="agentgate agent (issuer ci)"

expect "agent-new:*:$new:$new:$gecos:/home/agents/agent-new:/bin/bash" \
	passwd agent-new
expect "agent-reg:*:$reg:$reg:$gecos:/home/agents/agent-reg:/bin/bash" \
	passwd "$reg"
expect "agent-reg:*:$reg:" group agent-reg
expect "agent-reg:*:$reg:" group "$reg"
expect "root:x:0:0:root:/root:/bin/bash" passwd root
expect_status 2 passwd "$new"		# not registered: no name for it
expect_status 2 passwd Agent-New
expect_status 2 passwd "agent-a:b"
expect_status 2 passwd "agent-"
expect_status 2 passwd " agent-new"

# Enumeration: files first, then agents with a live session only.
expect "root:x:0:0:root:/root:/bin/bash
alice:x:1000:1000:Alice:/home/alice:/bin/sh
agent-live:*:$live:$live:$gecos:/home/agents/agent-live:/bin/bash" passwd
expect "root:x:0:
alice:x:1000:
users:x:100:alice
extra:x:4242:
agent-live:*:$live:" group

# initgroups: nss_wrapper derives groups from gr_mem only and never
# calls a module's initgroups_dyn, so this part runs real glibc getent
# in a private mount namespace with our own nsswitch.conf bound over
# /etc/nsswitch.conf; glibc finds the module through LD_LIBRARY_PATH.
#
# The module grants the groups of the caller's own session, found by
# its cgroup v2 group: the first record is given a group of a test
# subtree, and getent runs once inside that group, once outside.
cg_mount=$(awk '{ for (i = 7; $i != "-"; i++) ;
	if ($(i + 1) == "cgroup2") { print $5; exit } }' /proc/self/mountinfo)
cg="/agentgate-test-getent-$$"
rec=$(grep -l '^groups=100,4242,0$' "$root"/run/sessions/*)
initgroups() {
	LD_PRELOAD="$san" LD_LIBRARY_PATH="$root/lib" \
		unshare -m sh -c '[ -z "$2" ] || echo 0 > "$2/cgroup.procs" &&
		mount --bind "$1" /etc/nsswitch.conf &&
		exec getent initgroups agent-live' sh "$root/nsswitch.conf" \
		"$1" 2>&1 || true
}
if unshare -m true 2>/dev/null && [ -n "$cg_mount" ] &&
		mkdir "$cg_mount$cg" 2>/dev/null; then
	trap 'rmdir "$cg_mount$cg" 2>/dev/null || true' EXIT
	sed -i "s|^cgroup=.*|cgroup=$cg|" "$rec"
	mkdir -p "$root/lib"
	ln -sf "$module" "$root/lib/libnss_agentgate.so.2"
	printf 'passwd: files agentgate\ngroup: files agentgate\n' \
		> "$root/nsswitch.conf"
	got=$(initgroups "$cg_mount$cg")
	for g in 100 4242; do
		case " $got " in
		*" $g "*) echo "ok: initgroups has $g" ;;
		*) echo "FAIL: initgroups lacks $g: $got"; fail=1 ;;
		esac
	done
	case " $got " in
	*" 0 "*) echo "FAIL: initgroups has gid 0: $got"; fail=1 ;;
	*) echo "ok: initgroups has no gid 0" ;;
	esac
	got=$(initgroups "")
	case " $got " in
	*" 100 "*|*" 4242 "*)
		echo "FAIL: initgroups outside a session: $got"; fail=1 ;;
	*) echo "ok: initgroups outside a session adds nothing" ;;
	esac
else
	echo "unshare -m or cgroup2 unavailable: initgroups via glibc" \
		"not tested"
fi

exit $fail
