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

# Usage and config errors exit 2 with a message naming the problem.
usage_err() {	# WHAT MESSAGE-PART COMMAND ARGS...: runs agentgatectl
	u_what=$1
	u_msg=$2
	shift 2
	out=$("$ctl" "$@" </dev/null 2>&1)
	rc=$?
	[ "$rc" -eq 2 ] || fail "$u_what: exit $rc, want 2"
	case $out in
	"agentgatectl: $1: "*"$u_msg"*) ;;
	*) fail "$u_what: got \"$(printf '%s\n' "$out" | head -n 1)\"" ;;
	esac
	case $out in *BEGIN*|*PRIVATE*|*SECRET*)
		fail "$u_what: key material in the message" ;;
	esac
}

mint_err() {	# WHAT MESSAGE-PART ARGS...: mint with the other options
	m_what=$1
	m_msg=$2
	shift 2
	usage_err "$m_what" "$m_msg" mint --iss https://approve.test \
		--aud host1 --sub agent-bob "$@"
}

k="--key $tmp/ec.key"
mint_err "ttl 0" "--ttl 0: must be at least 1 second" $k --ttl 0
mint_err "negative ttl" "--ttl -5: must be at least 1 second" $k --ttl -5
mint_err "ttl 10abc" '--ttl "10abc": not a whole number' $k --ttl 10abc
mint_err "empty ttl" "not a whole number" $k --ttl ""
mint_err "ttl over 31 days" "over the limit of 2678400 seconds" \
	$k --ttl 2678401
mint_err "huge ttl" "over the limit" $k --ttl 99999999999999999999
mint_err "ttl twice" "--ttl given twice" $k --ttl 5 --ttl 6
mint_err "missing --ttl" "--ttl is required" $k
mint_err "missing --key" "--key is required" --ttl 5
mint_err "empty jti" '--jti "": 1 to 128 printable' $k --ttl 5 --jti ""
mint_err "jti with a space" "no spaces" $k --ttl 5 --jti "a b"
usage_err "missing --sub" "--sub is required" mint $k --iss i --aud a \
	--ttl 5
usage_err "missing --aud" "--aud is required" mint $k --iss i \
	--sub agent-x --ttl 5
mint_err "claim not JSON" \
	'--claim "foo=notjson": the value is not valid JSON' \
	$k --ttl 5 --claim foo=notjson
mint_err "claim without =" '--claim "foo": expected KEY=JSON' \
	$k --ttl 5 --claim foo
mint_err "claim without name" "empty claim name" $k --ttl 5 --claim =1
mint_err "unknown alg" '--alg "HS256": unknown algorithm' \
	$k --ttl 5 --alg HS256
mint_err "RS256 with an EC key" \
	"--alg RS256 does not fit --key $tmp/ec.key: it is an EC P-256" \
	$k --ttl 5 --alg RS256
mint_err "ES384 with a P-256 key" "--alg ES384 does not fit" \
	$k --ttl 5 --alg ES384
mint_err "EdDSA with an RSA key" "it is an RSA key" \
	--key "$tmp/rsa.key" --ttl 5 --alg EdDSA
mint_err "public key" "--key $tmp/ec.pem: not a PEM private key" \
	--key "$tmp/ec.pem" --ttl 5
mint_err "missing key file" "--key $tmp/nope.key: No such file" \
	--key "$tmp/nope.key" --ttl 5
mint_err "key is a directory" "--key $tmp: " --key "$tmp" --ttl 5
{
	echo "-----BEGIN PRIVATE KEY-----"
	echo "SECRETSECRETSECRET"
	echo "-----END PRIVATE KEY-----"
} >"$tmp/broken.key"
mint_err "broken key" "not a PEM private key" --key "$tmp/broken.key" \
	--ttl 5
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	-aes-128-cbc -pass pass:secret -out "$tmp/enc.key" 2>/dev/null ||
	exit 99
mint_err "encrypted key" "not a PEM private key (or an encrypted" \
	--key "$tmp/enc.key" --ttl 5
mint_err "unknown option" "unknown option --bogus" $k --ttl 5 --bogus
mint_err "option without value" "--ttl needs a value" $k --ttl
mint_err "stray argument" 'unexpected argument "extra"' $k --ttl 5 extra
"$ctl" mint --help | grep -q "^usage: agentgatectl mint" ||
	fail "mint --help"

c="--config $tmp/agentgate.conf"
usage_err "missing config" "$tmp/missing.conf: No such file" \
	verify --config "$tmp/missing.conf" "$tok"
usage_err "two tokens" "more than one token given" verify $c a b
usage_err "--at soon" '--at "soon": not a whole number of seconds' \
	verify $c --at soon a
usage_err "--at 10abc" "not a whole number" verify $c --at 10abc a
usage_err "negative --at" "--at -5: before the epoch" verify $c --at -5 a
usage_err "--at past 9999" "--at 253402300800: after the year 9999" \
	verify $c --at 253402300800 a
usage_err "empty --user" "--user is empty" verify $c --user "" a
usage_err "verify option without value" "--config needs a value" \
	verify --config
usage_err "verify unknown option" "unknown option --bogus" \
	verify $c --bogus a
"$ctl" verify --help | grep -q "^usage: agentgatectl verify" ||
	fail "verify --help"

[ "$fails" -eq 0 ] || exit 1
echo "ok: agentgatectl mint and verify"
