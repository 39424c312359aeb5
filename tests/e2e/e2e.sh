#!/bin/bash
#
# agentgate end to end: an agent logs in over real OpenSSH with a
# token, runs commands, tries to leave processes behind, and is cut off
# when the token expires; then the refusals.  With --demo it tells the
# story and stops there (the README's first command); without it, it
# goes on to the rest of what the product promises, as a test.
#
# Exit status: 0 when everything behaved as described, 1 when not,
# 77 (skip) without root or the tools.

set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=sandbox.sh
. "$here/sandbox.sh"

: "${abs_top_builddir:=$(cd "$here/../.." && pwd)}"
: "${ag_sysconfdir:=/etc}"
export abs_top_builddir ag_sysconfdir

if [ "${ag_sanitizers:-no}" = yes ]; then
	echo "SKIP: sanitizer builds cannot be loaded into sshd"
	exit 77
fi
if [ -z "${SB_INSIDE:-}" ]; then
	sb_run "${BASH_SOURCE[0]}" "$@"
	exit $?
fi

MODE=${1:-test}

# ---- the story -------------------------------------------------------

story_login_and_expiry() {
	local tok=$SB_DIR/token.demo uid out=$SB_DIR/session.out pid exp
	local t0 gone

	say "minting a 20-second token for agent-build-42 (EdDSA)"
	mint agent-build-42 "$tok" --ttl 20
	exp=$(token_claim "$tok" exp)
	say "token expires at $(date -d "@$exp" +%T)"

	say "agent-build-42 logs in over ssh with the token as password"
	agent_ssh agent-build-42 "$tok" -- '
		id
		echo "expires at $AGENTGATE_EXPIRES_AT"
		setsid nohup sleep 1000 >/dev/null 2>&1 </dev/null &
		( ( sleep 1001 </dev/null >/dev/null 2>&1 & ) & )
		( trap "" TERM HUP; exec sleep 1002 ) </dev/null \
			>/dev/null 2>&1 &
		echo started background processes
		exec sleep 1003' >"$out" 2>&1 &
	pid=$!

	wait_for 10 grep -q "started background" "$out" ||
		{ cat "$out" "$SB_DIR/syslog.log"; fail "login failed"; }
	sed 's/^/    remote: /' "$out"
	grep -q "uid=[0-9]*(agent-build-42)" "$out" ||
		fail "id did not show the agent"
	uid=$(uid_of agent-build-42)
	say "the session, as the admin sees it:"
	"$AGENTGATECTL" list --config "$SB_CONF" | sed 's/^/    /'
	say "processes of uid $uid:"
	ps -o pid=,sid=,args= -u "$uid" | sed 's/^/    /'

	say "waiting for the deadline"
	while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
	t0=$(date +%s.%N)
	wait "$pid" || true
	say "connection closed ($(elapsed "$exp" "$t0") s after expiry)"

	wait_for 5 bash -c "! pgrep -u $uid >/dev/null" ||
		{ ps -u "$uid" -o pid,args; fail "agent processes survived"; }
	gone=$(date +%s.%N)
	say "every process of uid $uid is gone ($(elapsed "$exp" "$gone") s after expiry)"
	[ -z "$(ls /run/agentgate/sessions)" ] ||
		fail "session record left behind"
	[ ! -e "$SB_DIR/home/agent-build-42" ] ||
		fail "ephemeral home left behind"
	say "what the log says:"
	grep -h 'agentgate' "$SB_DIR/syslog.log" | sed 's/^/    /'
}

# refused USER TOKENFILE REASON WHAT
refused() {
	if agent_ssh "$1" "$2" -- true >/dev/null 2>&1; then
		fail "$4 was let in"
	fi
	wait_for 3 log_has "result=deny user=$1 .*reason=$3" ||
		{ tail -5 "$SB_DIR/syslog.log"; fail "$4: no reason=$3 in log"; }
	say "refused as expected: $4 (reason=$3)"
}

story_refusals() {
	local d=$SB_DIR now jti
	now=$(date +%s)

	mint agent-build-42 "$d/t.expired" --ttl 60 \
		--claim "iat=$((now - 120))" --claim "exp=$((now - 60))"
	refused agent-build-42 "$d/t.expired" expired "an expired token"

	(umask 077; "$AGENTGATECTL" mint --key "$d/issuer.key" \
		--iss "$SB_ISS" --aud other-host --sub agent-build-42 \
		--ttl 60 >"$d/t.host")
	refused agent-build-42 "$d/t.host" wrong_audience \
		"a token for another host"

	mint agent-other "$d/t.user" --ttl 60
	refused agent-build-42 "$d/t.user" user_mismatch \
		"a token for another agent"

	mint agent-build-42 "$d/t.revoked" --ttl 60
	jti=$(token_claim "$d/t.revoked" jti)
	"$AGENTGATECTL" revoke --config "$SB_CONF" --jti "$jti" \
		--issuer demo --reason "e2e" | sed 's/^/    /'
	refused agent-build-42 "$d/t.revoked" revoked "a revoked token"
}

# ---- beyond the story ------------------------------------------------

test_publickey_refused() {
	local home=$SB_DIR/home/agent-keys uid
	uid=$(uid_of agent-keys)
	ssh-keygen -q -t ed25519 -N '' -f "$SB_DIR/agentkey"
	mkdir -p "$home/.ssh"
	cp "$SB_DIR/agentkey.pub" "$home/.ssh/authorized_keys"
	chown -R "$uid:$uid" "$home"
	chmod 0700 "$home" "$home/.ssh"

	if ssh -F "$SB_DIR/ssh_config" -o PreferredAuthentications=publickey \
	    -o PubkeyAuthentication=yes -i "$SB_DIR/agentkey" \
	    -o IdentitiesOnly=yes agent-keys@127.0.0.1 true \
	    </dev/null >/dev/null 2>&1; then
		fail "a planted authorized_keys let the agent in"
	fi
	wait_for 3 log_has "event=account result=deny user=agent-keys .*reason=no_token" ||
		fail "public-key login not refused by the account check"
	rm -rf "$home"
	say "refused as expected: public key planted by root (account check)"
}

test_human_with_broken_config() {
	local good
	good=$(cat "$SB_CONF")
	useradd -M -d "$SB_DIR/alice" -s /bin/bash alice
	mkdir -m 0700 "$SB_DIR/alice"
	chown alice: "$SB_DIR/alice"
	echo 'alice:correct horse battery' | chpasswd
	echo 'correct horse battery' >"$SB_DIR/alice.pw"
	chmod 0600 "$SB_DIR/alice.pw"

	echo "[issuer demo" >"$SB_CONF"
	echo "prefix = agent-" >>"$SB_CONF"
	[ "$(agent_ssh alice "$SB_DIR/alice.pw" -- id -un)" = alice ] ||
		fail "human could not log in while agentgate.conf is broken"
	say "human alice logs in with her password while agentgate.conf is broken"

	mint agent-build-42 "$SB_DIR/t.broken" --ttl 60
	if agent_ssh agent-build-42 "$SB_DIR/t.broken" -- true \
	    >/dev/null 2>&1; then
		fail "an agent was let in with a broken config"
	fi
	say "refused as expected: an agent while agentgate.conf is broken"
	printf '%s\n' "$good" >"$SB_CONF"
}

# The package removed but the admin's pam.d lines left behind: humans
# must still get in, agents not.
test_human_without_module() {
	local lib
	lib=$(sb_libdir)
	umount -l "$lib"
	[ "$(agent_ssh alice "$SB_DIR/alice.pw" -- id -un)" = alice ] ||
		fail "human locked out with the module file missing"
	mint agent-build-42 "$SB_DIR/t.nomod" --ttl 60
	if agent_ssh agent-build-42 "$SB_DIR/t.nomod" -- true \
	    >/dev/null 2>&1; then
		fail "an agent got in with the module file missing"
	fi
	mount -t overlay overlay -o "lowerdir=$SB_DIR/lib:$lib" "$lib"
	say "with the modules gone, alice still logs in and agents do not"
}

# A token's groups claim is that session's alone.
test_groups_per_session() {
	local a=$SB_DIR/t.g1 b=$SB_DIR/t.g2 pa
	groupadd -f e2e-deploy
	mint agent-groups "$a" --ttl 60 --claim 'groups=["e2e-deploy"]'
	mint agent-groups "$b" --ttl 60
	agent_ssh agent-groups "$a" -- 'id -Gn; exec sleep 100' \
		>"$SB_DIR/g1.out" 2>&1 &
	pa=$!
	wait_for 10 grep -q agent-groups "$SB_DIR/g1.out" ||
		fail "groups session 1 login"
	grep -qw e2e-deploy "$SB_DIR/g1.out" ||
		fail "the token's group was not granted"
	if agent_ssh agent-groups "$b" -- id -Gn | grep -qw e2e-deploy; then
		fail "a second session inherited the first token's group"
	fi
	kill "$pa" 2>/dev/null
	wait "$pa" 2>/dev/null || true
	say "a token's groups go to its own session only"
}

test_concurrent_sessions() {
	local a=$SB_DIR/t.c1 b=$SB_DIR/t.c2 pa pb ea eb
	mint agent-twin "$a" --ttl 8
	mint agent-twin "$b" --ttl 16
	ea=$(token_claim "$a" exp)
	eb=$(token_claim "$b" exp)
	agent_ssh agent-twin "$a" -- 'echo up; exec sleep 100' \
		>"$SB_DIR/c1.out" 2>&1 &
	pa=$!
	agent_ssh agent-twin "$b" -- 'echo up; exec sleep 100' \
		>"$SB_DIR/c2.out" 2>&1 &
	pb=$!
	wait_for 10 grep -q up "$SB_DIR/c1.out" || fail "twin 1 login"
	wait_for 10 grep -q up "$SB_DIR/c2.out" || fail "twin 2 login"

	while kill -0 "$pa" 2>/dev/null; do sleep 0.1; done
	[ "$(date +%s)" -le $((ea + 2)) ] || fail "twin 1 ended late"
	kill -0 "$pb" 2>/dev/null || fail "twin 2 ended with twin 1"
	say "two sessions of agent-twin: the first ended at its deadline, the second lives on"
	while kill -0 "$pb" 2>/dev/null; do sleep 0.1; done
	[ "$(date +%s)" -ge "$eb" ] || fail "twin 2 ended early"
	[ "$(date +%s)" -le $((eb + 2)) ] || fail "twin 2 ended late"
	wait "$pa" "$pb" || true
	say "and the second ended at its own deadline"
}

test_scp_sftp() {
	local tok=$SB_DIR/t.files cm=$SB_DIR/cm opts
	mint agent-files "$tok" --ttl 60
	opts=(-o "ControlPath=$cm" -F "$SB_DIR/ssh_config")
	agent_ssh agent-files "$tok" -M -S "$cm" -f -N -- ||
		fail "master connection"
	echo "payload $$" >"$SB_DIR/upload.txt"
	scp -q "${opts[@]}" "$SB_DIR/upload.txt" \
		agent-files@127.0.0.1:up.txt || fail "scp upload"
	printf 'put %s sftp.txt\nls\n' "$SB_DIR/upload.txt" >"$SB_DIR/batch"
	sftp -q "${opts[@]}" -b "$SB_DIR/batch" agent-files@127.0.0.1 \
		>/dev/null || fail "sftp upload"
	[ "$(ssh "${opts[@]}" agent-files@127.0.0.1 cat up.txt sftp.txt)" = \
	  "$(cat "$SB_DIR/upload.txt" "$SB_DIR/upload.txt")" ] ||
		fail "files did not arrive"
	ssh "${opts[@]}" -O exit agent-files@127.0.0.1 2>/dev/null || true
	say "scp and sftp work inside a session"
}

test_keyboard_interactive() {
	local tok=$SB_DIR/t.kbd
	mint agent-kbd "$tok" --ttl 60
	[ "$(agent_ssh agent-kbd "$tok" \
		-o PreferredAuthentications=keyboard-interactive -- \
		'echo $AGENTGATE_SESSION_ID' | wc -c)" = 33 ] ||
		fail "keyboard-interactive login"
	say "keyboard-interactive login works and sees its session id"
}

# ---- run ---------------------------------------------------------------

say "sandbox: private mount, network and pid namespaces in $SB_DIR"
sb_setup
say "sshd on 127.0.0.1:$SB_PORT, agentgated running, config $SB_CONF"

story_login_and_expiry
story_refusals
if [ "$MODE" != --demo ]; then
	test_publickey_refused
	test_human_with_broken_config
	test_human_without_module
	test_groups_per_session
	test_concurrent_sessions
	test_scp_sftp
	test_keyboard_interactive
fi
sb_teardown
say "all checks passed"
