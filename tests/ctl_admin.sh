#!/bin/sh
# agentgatectl revoke and check-config: what a revocation records, and
# what a bad config or a bad request gets told.  Config, keys and state
# live in a mktemp directory removed on exit.
set -u

ctl=${AGENTGATECTL:-${abs_top_builddir:-..}/helper/agentgatectl}
if ! [ -x "$ctl" ] || ! command -v openssl >/dev/null; then
	echo "SKIP: needs agentgatectl and the openssl tool"
	exit 77
fi

tmp=$(mktemp -d /tmp/agadmin.XXXXXX) || exit 99
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
umask 022
fails=0
conf=$tmp/agentgate.conf
revs=$tmp/state/revocations
leeway=90
life=600

fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

first() {
	printf '%s\n' "$1" | head -n 1
}

openssl genpkey -algorithm ED25519 -out "$tmp/ed.key" 2>/dev/null &&
openssl pkey -in "$tmp/ed.key" -pubout -out "$tmp/ed.pem" || exit 99

cat >"$conf" <<EOF
[agentgate]
audience = host1
leeway = $leeway
state_dir = $tmp/state
runtime_dir = $tmp/run
revocation_dir = $tmp/revoked

[issuer main]
iss = https://approve.test
keys = $tmp/ed.pem
max_lifetime = $life
prefix = agent-
uid_range = 2147400000-2147409999
EOF
mkdir -p "$tmp/state" "$tmp/run" "$tmp/revoked"

revoke() {	# ARGS...: output in $out, exit code in $rc
	out=$("$ctl" revoke --config "$conf" "$@" 2>&1)
	rc=$?
}

# --- user and issuer revocations reach leeway seconds ahead ---------

# A user or issuer entry must cover tokens whose iat is up to leeway in
# our future, and stay until the last of them has expired.
check_after() {	# KIND VALUE BEFORE
	line=$(grep "^$1 $2 " "$revs" | tail -n 1)
	set -- $line "$3"
	now=$(date +%s)
	[ "$3" -ge $(($5 + leeway)) ] && [ "$3" -le $((now + leeway)) ] ||
		fail "$1 $2: after $3, want now + $leeway"
	[ "$4" -ge $(($3 + life + leeway)) ] ||
		fail "$1 $2: until $4 ends before its last token expires"
}

t0=$(date +%s)
revoke --user agent-bob
[ "$rc" -eq 0 ] || fail "revoke --user: exit $rc: $out"
check_after user agent-bob "$t0"
revoke --issuer main
[ "$rc" -eq 0 ] || fail "revoke --issuer: exit $rc: $out"
check_after issuer main "$t0"

# End to end: a token from a fast issuer clock, minted just before the
# revocation, is refused after it.
rm -f "$revs"
ahead=$(($(date +%s) + leeway - 5))
tok=$("$ctl" mint --key "$tmp/ed.key" --iss https://approve.test \
	--aud host1 --sub agent-amy --ttl 300 --claim "iat=$ahead" \
	--claim "exp=$((ahead + 300))") || fail "mint: exit $?"
out=$(printf '%s\n' "$tok" | "$ctl" verify --config "$conf" - 2>&1)
[ $? -eq 0 ] || fail "future iat within leeway refused: $(first "$out")"
revoke --user agent-amy
out=$(printf '%s\n' "$tok" | "$ctl" verify --config "$conf" - 2>&1)
case $out in
"rejected: revoked: "*) ;;
*) fail "fast-clock token survives revoke --user: $(first "$out")" ;;
esac

[ "$fails" -eq 0 ] || exit 1
echo "ok: agentgatectl revoke and check-config"
