#!/bin/sh
# agentgatectl mint and verify end to end: exit codes and output.
# Keys, config and state live in a mktemp directory removed on exit;
# tokens only ever live in shell variables.
set -u

ctl=${AGENTGATECTL:-${abs_top_builddir:-..}/helper/agentgatectl}
if ! [ -x "$ctl" ] || ! command -v openssl >/dev/null; then
	echo "SKIP: needs agentgatectl and the openssl tool"
	exit 77
fi

tmp=$(mktemp -d /tmp/agctl.XXXXXX) || exit 99
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
umask 022
fails=0

fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

keypair() {	# NAME OPENSSL-GENPKEY-ARGS...
	name=$1
	shift
	openssl genpkey "$@" -out "$tmp/$name.key" 2>/dev/null &&
	openssl pkey -in "$tmp/$name.key" -pubout -out "$tmp/$name.pem" ||
		exit 99
}

keypair ec -algorithm EC -pkeyopt ec_paramgen_curve:P-256
keypair ed -algorithm ED25519
keypair rsa -algorithm RSA -pkeyopt rsa_keygen_bits:2048
keypair other -algorithm EC -pkeyopt ec_paramgen_curve:P-256

cat >"$tmp/agentgate.conf" <<EOF
[agentgate]
audience = host1
state_dir = $tmp/state
runtime_dir = $tmp/run
revocation_dir = $tmp/revoked

[issuer main]
iss = https://approve.test
keys = $tmp/ec.pem $tmp/ed.pem $tmp/rsa.pem
prefix = agent-
groups = docker
single_use = yes
EOF
mkdir -p "$tmp/state" "$tmp/run" "$tmp/revoked"

mint() {	# KEY [ARGS...]
	m_key=$1
	shift
	"$ctl" mint --key "$tmp/$m_key.key" --iss https://approve.test \
		--aud host1 --sub agent-bob --ttl 300 "$@"
}

verify() {	# TOKEN [ARGS...]: output in $out, exit code in $rc
	v_tok=$1
	shift
	out=$(printf '%s\n' "$v_tok" | "$ctl" verify \
		--config "$tmp/agentgate.conf" "$@" - 2>&1)
	rc=$?
}

expect() {	# WHAT RC FIRST-LINE-PREFIX
	[ "$rc" -eq "$2" ] || fail "$1: exit $rc, want $2"
	case $(printf '%s\n' "$out" | head -n 1) in
	"$3"*) ;;
	*) fail "$1: got \"$(printf '%s\n' "$out" | head -n 1)\"" ;;
	esac
}

# Accepted, one per algorithm family, with the default alg of each key.
for key in ec ed rsa; do
	tok=$(mint $key --claim 'groups=["docker"]') ||
		fail "mint $key: exit $?"
	verify "$tok" --user agent-bob
	expect "verify $key" 0 accepted
	sig=${tok##*.}
	case $out in *"$sig"*) fail "$key: signature printed" ;; esac
	case $out in *"user: agent-bob"*) ;; *) fail "$key: no user" ;; esac
done
case $(mint ed) in *.*.*) ;; *) fail "mint output not compact JWS" ;; esac

tok=$(mint ec --jti fixed-1 --kid ec)
verify "$tok"
expect "issuer from iss, no --user" 0 accepted
case $out in *"jti: fixed-1"*) ;; *) fail "jti not shown" ;; esac
case $out in *"alg: ES256"*) ;; *) fail "alg not shown" ;; esac

out=$("$ctl" verify --config "$tmp/agentgate.conf" "$tok")
rc=$?
expect "token as argument" 0 accepted

verify "$tok" --user agent-eve
expect "other user" 1 "rejected: user_mismatch: "
verify "$tok" --at $(($(date +%s) + 4000))
expect "--at after exp" 1 "rejected: expired: "
verify "$tok" --at $(($(date +%s) - 4000))
expect "--at before iat" 1 "rejected: issued_in_future: "
verify "$(mint other)"
expect "unknown signer" 1 "rejected: bad_signature: "
verify "$(mint ec --kid nope)"
expect "unknown kid" 1 "rejected: unknown_kid: "
verify "$(mint ec --claim 'exp="soon"')"
expect "string exp" 1 "rejected: bad_claim: "
verify "$(mint rsa --alg RS512 --claim 'aud=["x"]')"
expect "aud array without host" 1 "rejected: wrong_audience: "
verify "${tok%.*}.AAAA!"
expect "junk signature" 1 "rejected: malformed: "
verify ""
expect "empty input" 1 "rejected: malformed: "

# A used jti (as PAM would record it) is reported, not consumed here.
verify "$tok"
expect "verify does not consume" 0 accepted
h=$(printf 'https://approve.test\000fixed-1' | sha256sum | cut -c1-64)
mkdir -p "$tmp/state/jti" && echo 0 >"$tmp/state/jti/$h"
verify "$tok"
expect "recorded jti" 1 "rejected: replayed: "

# Usage and config errors exit 2.
verify "$tok" --config "$tmp/missing.conf"
[ "$rc" -eq 2 ] || fail "missing config: exit $rc"
"$ctl" verify --config "$tmp/agentgate.conf" a b >/dev/null 2>&1
[ $? -eq 2 ] || fail "two tokens: not a usage error"
"$ctl" verify --at soon --config "$tmp/agentgate.conf" a >/dev/null 2>&1
[ $? -eq 2 ] || fail "bad --at: not a usage error"
mint ec --alg RS256 >/dev/null 2>&1
[ $? -eq 2 ] || fail "RS256 with an EC key: not refused"
mint ec --alg ES384 >/dev/null 2>&1
[ $? -eq 2 ] || fail "ES384 with a P-256 key: not refused"
mint ec --alg HS256 >/dev/null 2>&1
[ $? -eq 2 ] || fail "HS256: not refused"
"$ctl" mint --key "$tmp/ec.key" --iss i --aud a --ttl 5 >/dev/null 2>&1
[ $? -eq 2 ] || fail "mint without --sub: not a usage error"
"$ctl" mint --key "$tmp/ec.pem" --iss i --aud a --sub agent-x --ttl 5 \
	>/dev/null 2>&1
[ $? -eq 2 ] || fail "mint with a public key: not refused"
err=$(mint ec --claim 'x=not json' 2>&1)
[ $? -eq 2 ] || fail "bad --claim: not a usage error"
case $err in *BEGIN*) fail "key material in an error" ;; esac

[ "$fails" -eq 0 ] || exit 1
echo "ok: agentgatectl mint and verify"
