#!/bin/bash
# Real processes, a real agentgated, real cgroups.  Runs as root inside
# fresh mount, pid and IPC namespaces (with their own /proc and private
# /tmp, /var/tmp and /dev/shm), so the daemon's uid sweep, /proc scans
# and cleanup see only what this test started, and every process left
# over dies with the namespace.  Skips (77) when not root.
set -u

[ "$(id -u)" = 0 ] || exit 77
command -v unshare >/dev/null || exit 77
if [ -z "${AG_IN_NS:-}" ]; then
	AG_IN_NS=1 exec unshare -m -p -i --fork --mount-proc "$0" "$@"
fi

B=${abs_top_builddir:-$(cd "$(dirname "$0")/.." && pwd)}
FAKE=$B/tests/helper_fake_session
DAEMON=$B/helper/agentgated
CTL=$B/helper/agentgatectl
CG=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
[ -n "$CG" ] && [ -w "$CG" ] || exit 77

# The daemon empties the agents' files out of the shared temporary
# directories: they must be private ones.  A build tree below one of
# them is bound back in, from a descriptor opened before the mounts.
mount --make-rprivate / || exit 99
exec 8<"$B" || exit 99
for dir in /tmp /var/tmp /dev/shm; do
	mount -t tmpfs -o mode=1777 tmpfs "$dir" || exit 99
done
case "$B" in
/tmp/* | /var/tmp/* | /dev/shm/*)
	mkdir -p "$B" && mount --no-canonicalize --bind /proc/self/fd/8 "$B" ||
		exit 99 ;;
esac
exec 8<&-
[ -x "$FAKE" ] || exit 99

T=$(mktemp -d /tmp/agentgate-procs.XXXXXX)
mount -t tmpfs tmpfs "$T" || exit 99
mkdir -p "$T/home" "$T/state" /var/spool/cron && mount -t tmpfs tmpfs /var/spool/cron
mkdir -p /var/spool/cron/crontabs /var/spool/cron/atjobs
UID0=2147400000		# test range: nothing on a host uses these
CONF=$T/agentgate.conf
cat >"$CONF" <<EOF
[agentgate]
state_dir = $T/state
runtime_dir = $T/run
revocation_dir = $T/revoked.d
kill_grace_ms = 200

[issuer test]
iss = https://test.invalid
keys = $T/test.pem
prefix = agt-
uid_range = $UID0-$((UID0 + 9999))
home_base = $T/home
EOF
chmod 644 "$CONF"

FAILS=0
IDS=""
DPID=""
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
ok() { echo "ok: $*"; }

cleanup() {
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID"
	for id in $IDS; do
		[ -e "$CG/agentgate/$id/cgroup.kill" ] &&
			echo 1 >"$CG/agentgate/$id/cgroup.kill"
	done
	sleep 0.1
	for id in $IDS; do rmdir "$CG/agentgate/$id" 2>/dev/null; done
	umount /var/spool/cron "$T" 2>/dev/null
	rmdir "$T"
}
trap cleanup EXIT

newid() { head -c16 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

start_daemon() {
	"$DAEMON" --foreground --config "$CONF" 2>>"$T/daemon.log" &
	DPID=$!
	for _ in $(seq 50); do
		[ -e "$T/run/agentgated.lock" ] && return 0
		sleep 0.02
	done
}

# spawn VAR USER UIDOFF JTI EXPIRES: a placed session; leader pid in VAR.
spawn() {
	local id
	id=$(newid)
	IDS="$IDS $id"
	LAST_ID=$id
	eval "$1=\$(\"\$FAKE\" spawn \"\$CONF\" $id $2 $((UID0 + $3)) test $4 $5)"
}

alive() { kill -0 "$1" 2>/dev/null && ! grep -q '^State:.Z' /proc/$1/status; }
uid_procs() { ps -o pid= -u "$1" 2>/dev/null | wc -l; }
populated() { grep -q 'populated 1' "$CG/agentgate/$1/cgroup.events" 2>/dev/null; }
wait_until() { while [ "$(date +%s%N)" -lt "$1" ]; do sleep 0.02; done; }

# An empty group no session claims, old by the time of test 5.
GOLD=$(newid)
IDS="$IDS $GOLD"
mkdir "$CG/agentgate/$GOLD"

# For test 11: a session whose group is old enough to be judged by
# the time its record goes while the daemon is down.
NOW=$(date +%s)
spawn L11 agt-orphan 11 jti-orphan $((NOW + 600))
ID11=$LAST_ID

# For test 11: a group of ours holding a process whose uid is in the
# issuer's range but registered to no agent (sssd id-mapping, say).
GUNREG=$(newid)
IDS="$IDS $GUNREG"
mkdir "$CG/agentgate/$GUNREG"
sh -c "echo \$\$ >'$CG/agentgate/$GUNREG/cgroup.procs' &&
	exec setpriv --reuid=$((UID0 + 19)) --regid=$((UID0 + 19)) \
	--clear-groups sleep 1000" &
UNREG_G=$!

# 1. Expiry ends the leader, a setsid double fork and a SIGTERM-ignorer.
start_daemon
NOW=$(date +%s)
spawn L1 agt-expire 1 jti-expire $((NOW + 2))
ID1=$LAST_ID
# The children change uid on their own time (slow under ASan): wait.
for _ in $(seq 50); do
	[ "$(uid_procs $((UID0 + 1)))" = 2 ] && break
	sleep 0.02
done
[ "$(uid_procs $((UID0 + 1)))" = 2 ] || fail "expiry: setup"
wait_until $(( (NOW + 3) * 1000000000 ))
if alive "$L1" || [ "$(uid_procs $((UID0 + 1)))" != 0 ] || populated "$ID1"
then fail "expiry: processes left 1 s after the deadline"
else ok "expiry: whole session gone within 1 s"; fi
[ -e "$T/run/sessions/$ID1" ] && fail "expiry: record left behind"

# 2. Revoking one of two sessions of one agent ends only that one.
NOW=$(date +%s)
spawn L2A agt-two 2 jti-two-a $((NOW + 60))
IDA=$LAST_ID
spawn L2B agt-two 2 jti-two-b $((NOW + 60))
IDB=$LAST_ID
if [ -x "$CTL" ]; then
	"$CTL" revoke --config "$CONF" --jti jti-two-a --issuer test \
		--reason test >/dev/null || fail "revoke: agentgatectl"
else
	mkdir -p "$T/state"
	echo "jti test jti-two-a $((NOW + 60))" >"$T/state/revocations"
fi
T0=$(date +%s%N)
wait_until $((T0 + 1000000000))
if alive "$L2A" || populated "$IDA"; then fail "revoke: session A alive"
else ok "revoke: revoked session gone within 1 s"; fi
if alive "$L2B" && populated "$IDB" &&
	[ "$(cat "$CG/agentgate/$IDB/cgroup.procs" | wc -l)" = 3 ]
then ok "revoke: other session untouched"
else fail "revoke: other session harmed"; fi

# 3. A deadline passed while agentgated was down ends at its start.
kill "$DPID"; wait "$DPID"; DPID=""
NOW=$(date +%s)
spawn L3 agt-restart 3 jti-restart $((NOW + 1))
ID3=$LAST_ID
wait_until $(( (NOW + 2) * 1000000000 ))
alive "$L3" || fail "restart: session died without the daemon"
chmod 755 "$T/run/sessions"
T0=$(date +%s%N)
start_daemon
for _ in $(seq 50); do
	[ "$(stat -c %a "$T/run/sessions")" = 700 ] && break
	sleep 0.02
done
[ "$(stat -c %a "$T/run/sessions")" = 700 ] ||
	fail "restart: sessions directory not made 0700"
wait_until $((T0 + 1000000000))
if alive "$L3" || populated "$ID3"; then fail "restart: overdue session alive"
else ok "restart: overdue session ended at start"; fi

# 4. A recycled pid: the record names a stranger with another start time.
sleep 1000 &
STRANGER=$!
NOW=$(date +%s)
"$FAKE" record "$CONF" "$(newid)" agt-reuse $((UID0 + 4)) test jti-reuse \
	$((NOW + 1)) "$STRANGER" || fail "reuse: setup"
wait_until $(( (NOW + 2) * 1000000000 ))
if alive "$STRANGER"; then ok "reuse: stranger never signalled"
else fail "reuse: stranger was killed"; fi
kill "$STRANGER"

# 5. Crontab, at jobs and the ephemeral home go with the last session.
# The stale-group sweep that follows removes the old empty group but
# not a young one: that may be a login between mkdir and moving its
# pid in.
NOW=$(date +%s)
spawn L5 agt-clean 5 jti-clean $((NOW + 1))
GYOUNG=$(newid)
IDS="$IDS $GYOUNG"
mkdir "$CG/agentgate/$GYOUNG"
mkdir -p "$T/home/agt-clean/sub" "$T/outside"
echo keep >"$T/outside/file"
ln -s "$T/outside" "$T/home/agt-clean/link"
ln -s "$T/outside/file" "$T/home/agt-clean/sub/flink"
chown -R $((UID0 + 5)) "$T/home/agt-clean"
# A directory of another user, renamed in from a shared place: kept.
mkdir "$T/home/agt-clean/shared" && echo keep >"$T/home/agt-clean/shared/f"
chown -R $((UID0 + 6)) "$T/home/agt-clean/shared"
echo "* * * * * true" >/var/spool/cron/crontabs/agt-clean
touch /var/spool/cron/atjobs/a0001 && chown $((UID0 + 5)) /var/spool/cron/atjobs/a0001
touch /var/spool/cron/atjobs/a0002
# Outside the home: files, a FIFO, a tree, a symlink, in all three
# shared directories; a directory holding root's file; a mount point;
# and SysV IPC objects.  Only what the agent owns on the same file
# system may go.
U5=$((UID0 + 5))
as5() { setpriv --reuid=$U5 --regid=$U5 --clear-groups "$@"; }
echo keep >/tmp/root-file
touch /tmp/other && chown $((UID0 + 6)) /tmp/other
as5 touch /tmp/a5-file /var/tmp/a5-file /dev/shm/a5-shm
as5 mkfifo /tmp/a5-fifo
as5 mkdir -p /tmp/a5-dir/sub && as5 touch /tmp/a5-dir/sub/f
as5 ln -s /tmp/root-file /tmp/a5-link
as5 mkdir -m 777 /tmp/a5-shared && touch /tmp/a5-shared/root-inside
mkdir /tmp/a5-mnt && mount -t tmpfs tmpfs /tmp/a5-mnt &&
	touch /tmp/a5-mnt/f && chown -R $U5 /tmp/a5-mnt
as5 ipcmk -M 4096 >/dev/null && as5 ipcmk -Q >/dev/null &&
	as5 ipcmk -S 1 >/dev/null && ipcmk -M 4096 >/dev/null ||
	fail "cleanup: IPC setup"
wait_until $(( (NOW + 2) * 1000000000 ))
[ -e "$T/home/agt-clean" ] && fail "cleanup: home left"
[ -e /var/spool/cron/crontabs/agt-clean ] && fail "cleanup: crontab left"
[ -e /var/spool/cron/atjobs/a0001 ] && fail "cleanup: at job left"
[ -e /var/spool/cron/atjobs/a0002 ] || fail "cleanup: root's at job removed"
[ "$(cat "$T/outside/file" 2>/dev/null)" = keep ] ||
	fail "cleanup: followed a symlink out of the home"
for _ in $(seq 50); do
	grep -q "event=agent_cleanup user=agt-clean " "$T/daemon.log" && break
	sleep 0.02
done
TRASH5=$(echo "$T"/home/.agentgate-trash-$((UID0 + 5))-*)
[ "$(cat "$TRASH5/shared/f" 2>/dev/null)" = keep ] &&
	[ "$(ls -A "$TRASH5")" = shared ] &&
	grep -q "event=agent_cleanup user=agt-clean .*home=kept_foreign" \
	"$T/daemon.log" || fail "cleanup: another user's entry in the home"
rm -rf "$TRASH5"
for f in /tmp/a5-file /var/tmp/a5-file /dev/shm/a5-shm /tmp/a5-fifo \
	/tmp/a5-dir /tmp/a5-link; do
	[ -e "$f" ] || [ -L "$f" ] && fail "cleanup: $f left"
done
[ "$(cat /tmp/root-file 2>/dev/null)" = keep ] &&
	[ -e /tmp/other ] && [ -e /tmp/a5-shared/root-inside ] &&
	[ -e /tmp/a5-mnt/f ] || fail "cleanup: removed what is not the agent's"
ipcs_n() { ipcs "$1" | grep -c '^0x'; }
[ "$(ipcs_n -m)/$(ipcs_n -q)/$(ipcs_n -s)" = 1/0/0 ] ||
	fail "cleanup: IPC objects: $(ipcs -a)"
grep -q "event=agent_cleanup user=agt-clean .* tmp=8 tmp_left=1 shm=1 \
msg=1 sem=1 ipc_left=0" "$T/daemon.log" || fail "cleanup: counts not logged"
umount /tmp/a5-mnt
ok "cleanup: done"
[ -d "$CG/agentgate/$GOLD" ] && fail "stale: old empty group left"
if [ -d "$CG/agentgate/$GYOUNG" ]; then ok "stale: young group kept"
else fail "stale: a group younger than 5 s was removed"; fi
rmdir "$CG/agentgate/$GYOUNG"

# 7. A normal logout (the PAM module removes the record) of one of two
# sessions ends what that session left running (a setsid double fork,
# a SIGTERM-ignorer) and removes its group, even though the agent is
# still logged in elsewhere; the other session is left alone.
NOW=$(date +%s)
spawn L7A agt-logout 7 jti-logout-a $((NOW + 60))
ID7A=$LAST_ID
spawn L7B agt-logout 7 jti-logout-b $((NOW + 60))
ID7B=$LAST_ID
for _ in $(seq 50); do
	[ "$(uid_procs $((UID0 + 7)))" = 4 ] && break
	sleep 0.02
done
[ "$(uid_procs $((UID0 + 7)))" = 4 ] || fail "logout: setup"
rm "$T/run/sessions/$ID7A"
T0=$(date +%s%N)
while [ -d "$CG/agentgate/$ID7A" ] &&
	[ "$(date +%s%N)" -lt $((T0 + 1000000000)) ]; do sleep 0.02; done
if alive "$L7A" || [ -d "$CG/agentgate/$ID7A" ]
then fail "logout: closed session's strays or group left"
else ok "logout: closed session's strays and group gone within 1 s"; fi
if alive "$L7B" && [ "$(uid_procs $((UID0 + 7)))" = 2 ] &&
	[ "$(wc -l <"$CG/agentgate/$ID7B/cgroup.procs")" = 3 ]
then ok "logout: the agent's other session untouched"
else fail "logout: the agent's other session harmed"; fi
grep -q "event=killed session=$ID7A .*reason=closed .*n_pids=3 " \
	"$T/daemon.log" || fail "logout: no killed line naming 3 pids"

# 8. Logging out of the last session ends every stray of the agent,
# also one outside any session group.
setpriv --reuid=$((UID0 + 7)) --regid=$((UID0 + 7)) --clear-groups \
	sleep 1000 &
STRAY=$!
rm "$T/run/sessions/$ID7B"
T0=$(date +%s%N)
wait_until $((T0 + 1000000000))
if alive "$L7B" || alive "$STRAY" || [ "$(uid_procs $((UID0 + 7)))" != 0 ]
then fail "logout: strays left after the last session"
else ok "logout: last session's strays gone within 1 s"; fi
[ -d "$CG/agentgate/$ID7B" ] && fail "logout: last session's group left"
wait "$STRAY" 2>/dev/null

# 10. "su agt-su" from a human's login: the record carries the human's
# audit session id, which the login's root sshd and the human's shell
# share.  The session has a group, which alone decides: the human's
# processes survive.  HUID is outside the issuer's range.
HUID=$((UID0 + 20000))
su_from_human() {
	echo "$HUID" >/proc/self/loginuid || return 1
	sleep 1000 </dev/null >/dev/null 2>&1 &
	echo $! >"$T/human-root"
	setpriv --reuid=$HUID --regid=$HUID --clear-groups sleep 1000 \
		</dev/null >/dev/null 2>&1 &
	echo $! >"$T/human-user"
	cat /proc/self/sessionid >"$T/human-sid"
	"$FAKE" spawn "$CONF" "$1" agt-su $((UID0 + 10)) test jti-su "$2" \
		"$(cat "$T/human-sid")"
}
NOW=$(date +%s)
ID10=$(newid)
IDS="$IDS $ID10"
L10=$(su_from_human "$ID10" $((NOW + 1)))
HROOT=$(cat "$T/human-root" 2>/dev/null)
HUSER=$(cat "$T/human-user" 2>/dev/null)
[ -n "$L10" ] && [ "$(cat "$T/human-sid" 2>/dev/null)" != 4294967295 ] &&
	grep -q "^audit_sid=$(cat "$T/human-sid")$" "$T/run/sessions/$ID10" ||
	fail "su: setup"
wait_until $(( (NOW + 2) * 1000000000 ))
if alive "$L10" || [ "$(uid_procs $((UID0 + 10)))" != 0 ]
then fail "su: agent session left"
else ok "su: agent session ended"; fi
if alive "$HROOT" && alive "$HUSER"
then ok "su: the human's processes with the same audit id untouched"
else fail "su: the human's processes were killed"; fi
kill "$HROOT" "$HUSER" 2>/dev/null

# 11. sshd closes a session (removes its record) while the daemon is
# down: at start its group, no longer claimed and older than a login
# in progress, is ended, SIGTERM-ignorer included; so is an agent's
# process outside any group that no session accounts for.
# Processes of an in-range uid no agent was given are not an agent's:
# they survive, in a group of ours or outside any.
"$FAKE" register "$CONF" agt-stray $((UID0 + 12)) || fail "orphan: register"
setpriv --reuid=$((UID0 + 12)) --regid=$((UID0 + 12)) --clear-groups \
	sleep 1000 &
STRAY11=$!
setpriv --reuid=$((UID0 + 19)) --regid=$((UID0 + 19)) --clear-groups \
	sleep 1000 &
UNREG=$!
kill "$DPID"; wait "$DPID"; DPID=""
rm "$T/run/sessions/$ID11"
# A record that cannot be read claims no uid, but is logged.
JUNK=$(newid)
echo garbage >"$T/run/sessions/$JUNK" && chmod 600 "$T/run/sessions/$JUNK"
T0=$(date +%s%N)
start_daemon
wait_until $((T0 + 1200000000))
if alive "$L11" || populated "$ID11" ||
	[ "$(uid_procs $((UID0 + 11)))" != 0 ]
then fail "orphan: group of a session closed while down still alive"
else ok "orphan: group of a session closed while down ended at start"; fi
if alive "$STRAY11"; then fail "orphan: stray agent process left"
else ok "orphan: stray agent process ended at start"; fi
grep -q "event=orphan_killed cgroup=/agentgate/$ID11 uid=$((UID0 + 11)) \
.*n_pids=3 " "$T/daemon.log" || fail "orphan: no orphan_killed line"
grep -q "event=orphan_killed cgroup=- uid=$((UID0 + 12)) .*pids=$STRAY11" \
	"$T/daemon.log" || fail "orphan: no orphan_killed line for the uid"
wait "$STRAY11" 2>/dev/null
grep -q "event=record_unreadable session=$JUNK " "$T/daemon.log" ||
	fail "orphan: unreadable record not logged"
rm -f "$T/run/sessions/$JUNK"
if alive "$UNREG" && alive "$UNREG_G"
then ok "orphan: in-range uid registered to no agent untouched"
else fail "orphan: process of an unregistered in-range uid killed"; fi
kill "$UNREG" "$UNREG_G"; wait "$UNREG" "$UNREG_G" 2>/dev/null

# 12. A bad fleet list (a junk line, a directory named *.list) does not
# shield a fresh "agentgatectl revoke --user": the daemon reads what
# it can, logs the error, and ends the session within 1 s.
NOW=$(date +%s)
spawn L12 agt-junk 13 jti-junk $((NOW + 60))
ID12=$LAST_ID
mkdir -p "$T/revoked.d/dir.list"
echo "this is not an entry" >"$T/revoked.d/junk.list"
chmod 644 "$T/revoked.d/junk.list"
if [ -x "$CTL" ]; then
	"$CTL" revoke --config "$CONF" --user agt-junk --reason test \
		>/dev/null || fail "junk: agentgatectl revoke"
else
	echo "user agt-junk $((NOW + 5)) $((NOW + 60))" \
		>>"$T/state/revocations"
fi
T0=$(date +%s%N)
wait_until $((T0 + 1000000000))
if alive "$L12" || populated "$ID12"
then fail "junk: revoked session alive beside a bad list"
else ok "junk: revoked session gone within 1 s beside a bad list"; fi
grep -q "event=revocation_error .*junk.list:1: malformed entry" \
	"$T/daemon.log" || fail "junk: no revocation_error line"
rm -r "$T/revoked.d/dir.list" "$T/revoked.d/junk.list"

# 13. Removing an ephemeral home of 200k files (in a child) does not
# hold up another agent's deadline by more than 1 s.
BIG=$T/home/agt-big
mkdir -p "$BIG"
for i in $(seq 0 19); do
	mkdir "$BIG/d$i" && (cd "$BIG/d$i" && seq 10000 | xargs touch)
done
chown $((UID0 + 14)) "$BIG"
NOW=$(date +%s)
spawn L13A agt-big 14 jti-big $((NOW + 2))
spawn L13B agt-late 15 jti-late $((NOW + 3))
ID13B=$LAST_ID
wait_until $(( (NOW + 4) * 1000000000 ))
LAT=$(sed -n "s/.*event=killed session=$ID13B .*latency_ms=\([0-9]*\).*/\1/p" \
	"$T/daemon.log")
if alive "$L13B" || [ -z "$LAT" ] || [ "$LAT" -ge 1000 ]
then fail "big home: other deadline late (latency_ms=${LAT:-none})"
else ok "big home: other deadline kept (latency_ms=$LAT)"; fi
for _ in $(seq 500); do
	grep -q "event=agent_cleanup user=agt-big .*home=removed" \
		"$T/daemon.log" && break
	sleep 0.02
done
[ -e "$BIG" ] && fail "big home: not removed"

# 14. The agent logs in again while its last session's SIGTERM-ignorer
# waits out a 1.5 s grace: the uid sweep is dropped, and the new
# session's processes (same uid) survive the old one's SIGKILL.
set_grace() {
	sed -i "s/^kill_grace_ms = .*/kill_grace_ms = $1/" "$CONF"
	kill -HUP "$DPID"
	sleep 0.2
}
set_grace 1500
NOW=$(date +%s)
spawn L14A agt-back 16 jti-back-a $((NOW + 1))
ID14A=$LAST_ID
wait_until $(( (NOW + 1) * 1000000000 + 300000000 ))
spawn L14B agt-back 16 jti-back-b $((NOW + 60))
ID14B=$LAST_ID
wait_until $(( (NOW + 3) * 1000000000 + 500000000 ))
if alive "$L14A" || populated "$ID14A"; then fail "back: old session alive"
else ok "back: old session ended"; fi
if alive "$L14B" && [ "$(uid_procs $((UID0 + 16)))" = 2 ] &&
	[ "$(wc -l <"$CG/agentgate/$ID14B/cgroup.procs")" = 3 ]
then ok "back: new session of the same uid survives the old one's kill"
else fail "back: new session harmed by the old one's uid sweep"; fi
grep -q "event=uid_sweep_dropped session=$ID14A " "$T/daemon.log" ||
	fail "back: no uid_sweep_dropped line"
rm "$T/run/sessions/$ID14B"
set_grace 200

# 15. The cleanup runs after the last session, in the background: an
# agent back by then keeps its crontab, files and home.  The daemon
# counts sessions by uid, the cleanup reads the registry by name, so a
# record of the same name under another uid stands in for a login the
# daemon has not seen yet.
U17=$((UID0 + 17))
mkdir -p "$T/home/agt-race" && chown $U17 "$T/home/agt-race"
echo "* * * * * true" >/var/spool/cron/crontabs/agt-race
setpriv --reuid=$U17 --regid=$U17 --clear-groups touch /tmp/a17-file
sleep 1000 &
LEADER15=$!
NOW=$(date +%s)
ID15R=$(newid)
"$FAKE" record "$CONF" "$ID15R" agt-race $((UID0 + 18)) test jti-race-r \
	$((NOW + 60)) "$LEADER15" || fail "race: setup"
spawn L15 agt-race 17 jti-race $((NOW + 1))
for _ in $(seq 150); do
	grep -q "event=agent_cleanup user=agt-race " "$T/daemon.log" && break
	sleep 0.02
done
grep -q "event=agent_cleanup user=agt-race uid=$U17 skipped=live_session" \
	"$T/daemon.log" || fail "race: no skipped cleanup line"
if [ -d "$T/home/agt-race" ] && [ -e /tmp/a17-file ] &&
	[ -e /var/spool/cron/crontabs/agt-race ]
then ok "race: an agent back keeps its crontab, files and home"
else fail "race: cleanup removed what a live agent uses"; fi
rm "$T/run/sessions/$ID15R"
kill "$LEADER15"; wait "$LEADER15" 2>/dev/null

# 9. Placement survives its group being removed between mkdir and
# the pid's move (what a stale-group sweep could do): it makes the
# group again.  A racing process removes each new group once.
if R=$(timeout 120 "$FAKE" place-race 200 2>&1); then ok "place: $R"
else fail "place: $R"; fi

# 6. A clock step cancels the deadline timer; the daemon re-arms.  The
# host clock is shared, so only a step to the current time (a few
# microseconds) is made, and only when asked: AG_TEST_SET_CLOCK=1.
if [ "${AG_TEST_SET_CLOCK:-0}" = 1 ]; then
	NOW=$(date +%s)
	spawn L6 agt-clock 6 jti-clock $((NOW + 2))
	date -s "@$(date +%s.%N)" >/dev/null
	wait_until $(( (NOW + 3) * 1000000000 ))
	grep -q event=clock_changed "$T/daemon.log" || fail "clock: not noticed"
	if alive "$L6"; then fail "clock: deadline missed after re-arm"
	else ok "clock: step noticed, deadline still kept"; fi
fi

grep -q 'event=killed.*latency_ms=' "$T/daemon.log" || fail "log: no killed line"
[ "$FAILS" = 0 ] || { cat "$T/daemon.log"; exit 1; }
exit 0
