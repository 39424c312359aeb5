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

# --- revoke refuses what it cannot record faithfully ----------------

# Each bad request exits 2 with its own message and records nothing.
refused() {	# WHAT MESSAGE-PART ARGS...
	r_what=$1
	r_msg=$2
	shift 2
	r_before=$(cat "$revs" 2>/dev/null)
	revoke "$@"
	[ "$rc" -eq 2 ] || fail "$r_what: exit $rc, want 2"
	case $out in
	"agentgatectl: revoke: "*"$r_msg"*) ;;
	*) fail "$r_what: got \"$(first "$out")\"" ;;
	esac
	[ "$(cat "$revs" 2>/dev/null)" = "$r_before" ] ||
		fail "$r_what: recorded anyway"
}

long=$(printf '%0129d' 0)
nl='
'
refused "user root" "not an agent" --user root
refused "upper case user" "not a valid user name" --user agent-X
refused "bare prefix" "not an agent" --user agent-
refused "user with a blank" "not a valid user name" --user "agent- x"
refused "unknown issuer" "no [issuer nope]" --issuer nope
refused "jti of unknown issuer" "no [issuer nope]" --jti j1 --issuer nope
refused "empty jti" "--jti is empty" --jti ""
refused "jti with a blank" "printable ASCII" --jti "a b"
refused "jti with a tab" "printable ASCII" --jti "a	b"
refused "jti with a newline" "printable ASCII" --jti "a${nl}user x 0 9"
refused "jti of 129 bytes" "longer than 128" --jti "$long"
refused "reason with a newline" "control character" \
	--user agent-bob --reason "done${nl}issuer main 9999999999 0"
refused "reason of 201 bytes" "longer than 200" \
	--user agent-bob --reason "$(printf '%0201d' 0)"
refused "nothing to revoke" "one of --jti, --user or --issuer" \
	--reason x
refused "user and issuer" "exclude each other" \
	--user agent-bob --issuer main
refused "jti and user" "exclude each other" --jti j1 --user agent-bob
refused "user twice" "--user given twice" \
	--user agent-bob --user agent-amy
refused "stray argument" "unexpected argument" --user agent-bob extra
refused "unknown option" "unknown option --frobnicate" --frobnicate
refused "missing value" "--user needs a value" --user

# The limits themselves are accepted.
revoke --jti "$(printf '%0128d' 0)" --reason "$(printf '%0200d' 0)"
[ "$rc" -eq 0 ] || fail "jti of 128 bytes: exit $rc: $(first "$out")"
revoke --jti 'j:1/x' --issuer main --reason "job done"
[ "$rc" -eq 0 ] || fail "jti with issuer: exit $rc: $(first "$out")"
grep -q "^jti main j:1/x [0-9]* job done\$" "$revs" ||
	fail "jti with issuer not recorded"
"$ctl" revoke --help >/dev/null || fail "revoke --help: exit $?"

# --- check-config: local accounts under an issuer's prefix ----------

# Runs check-config with PASSWD and GROUP mounted over /etc/passwd and
# /etc/group in a private mount namespace: the real path, read the way
# the tool reads it, and nothing of the host's /etc touched.
check_with() {	# PASSWD GROUP CONFIG: output in $out, exit code in $rc
	out=$(unshare -m sh -c 'mount --make-rprivate / &&
		mount --bind "$1" /etc/passwd &&
		mount --bind "$2" /etc/group &&
		exec "$3" check-config --config "$4"' \
		sh "$1" "$2" "$ctl" "$3" 2>&1)
	rc=$?
}

has() {	# WHAT TEXT
	case $out in
	*"$2"*) ;;
	*) fail "$1: no \"$2\" in: $(first "$out")" ;;
	esac
}

if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
	echo "SKIP: check-config tests need root and unshare -m"
else
	printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' \
		'admin:x:1000:1000::/home/admin:/bin/sh' >"$tmp/passwd"
	printf '%s\n' 'root:x:0:' 'admin:x:1000:' >"$tmp/group"
	pline=$(grep -n '^prefix' "$conf" | cut -d: -f1)
	at="$conf:$pline: issuer main:"

	check_with "$tmp/passwd" "$tmp/group" "$conf"
	[ "$rc" -eq 0 ] || fail "clean config: exit $rc: $(first "$out")"
	has "clean config" "$conf: ok"

	cp "$tmp/passwd" "$tmp/passwd.ops"
	echo 'agent-ops:x:1001:1001::/home/ops:/bin/sh' >>"$tmp/passwd.ops"
	check_with "$tmp/passwd.ops" "$tmp/group" "$conf"
	[ "$rc" -eq 1 ] || fail "local user agent-ops: exit $rc, want 1"
	has "local user agent-ops" \
		"$at /etc/passwd user agent-ops is under prefix \"agent-\""

	cp "$tmp/group" "$tmp/group.ops"
	echo 'agent-admins:x:1002:' >>"$tmp/group.ops"
	check_with "$tmp/passwd" "$tmp/group.ops" "$conf"
	[ "$rc" -eq 1 ] || fail "local group agent-admins: exit $rc, want 1"
	has "local group agent-admins" \
		"$at /etc/group group agent-admins is under prefix"

	# A one-letter prefix is refused, and indeed captures admin.
	sed 's/^prefix = agent-$/prefix = a/' "$conf" >"$tmp/short.conf"
	check_with "$tmp/passwd" "$tmp/group" "$tmp/short.conf"
	[ "$rc" -eq 1 ] || fail "prefix a: exit $rc, want 1"
	has "prefix a" "$tmp/short.conf:$pline: issuer main: prefix \"a\" is"
	has "prefix a" "shorter than 3 characters"
	has "prefix a captures admin" \
		"/etc/passwd user admin is under prefix \"a\""

	# A pin to a uid the registry already gave another name.
	tool=${abs_top_builddir:-..}/tests/nss_test_tool
	"$tool" "$tmp" register agent-first ||
		fail "could not register agent-first"
	uid=$("$tool" "$tmp" uid agent-first)
	sed -e '/^uid_range/d' -e "s/^prefix = agent-\$/&\npins = agent-pinned:$uid/" \
		"$conf" >"$tmp/pin.conf"
	check_with "$tmp/passwd" "$tmp/group" "$tmp/pin.conf"
	[ "$rc" -eq 1 ] || fail "pin to a taken uid: exit $rc, want 1"
	has "pin to a taken uid" \
		"pin agent-pinned:$uid: uid already registered to agent-first"
fi

[ "$fails" -eq 0 ] || exit 1
echo "ok: agentgatectl revoke and check-config"
