#!/bin/sh
# The Debian packages, installed the way an admin installs them.
#
# Builds the .debs from this tree (packaging/build-deb.sh, which also
# fails on lintian errors), then, in a private mount namespace, lays
# an overlay over the running system's / and chroots into it, so that
# dpkg, pam-auth-update and useradd change only a throwaway copy:
#
#  - installing adds agentgate to nsswitch.conf but leaves the PAM
#    stacks alone (the profile is not enabled at install);
#  - after "pam-auth-update --enable agentgate" the common stacks deny
#    an agent without a token (and one with junk), admit an agent with
#    a valid token, and still admit a human with a password, also when
#    agentgate.conf is garbage and when the module file is missing;
#  - after "dpkg --purge" nsswitch.conf and /etc/pam.d/common-* are
#    byte for byte what they were.
#
# Skips (77) when not root, when a tool is missing, when the kernel
# or container does not allow the namespace or overlay, and outside a
# git checkout (make distcheck), since the packages are built from
# the checkout.  AGENTGATE_SKIP_PACKAGING=1 skips it on purpose.
set -u

skip() {
	echo "SKIP: $*"
	exit 77
}

self=$(cd "$(dirname "$0")" && pwd -P)/$(basename "$0")
top=${abs_top_srcdir:-$(dirname "$self")/..}
top=$(cd "$top" && pwd -P)

if [ "${1:-}" != --in-namespace ]; then
	[ "${AGENTGATE_SKIP_PACKAGING:-0}" = 1 ] &&
		skip "AGENTGATE_SKIP_PACKAGING=1"
	[ "$(id -u)" = 0 ] || skip "needs root (namespaces, chroot)"
	for tool in git dpkg-buildpackage dpkg-parsechangelog lintian \
			unshare chroot mount umount pamtester openssl; do
		command -v "$tool" >/dev/null 2>&1 ||
			skip "$tool not installed"
	done
	[ -x /usr/sbin/pam-auth-update ] || skip "pam-auth-update missing"
	# A dist tree (distcheck) may sit inside some git checkout; only
	# a tree that is itself the top of a checkout is built.
	toplevel=$(git -C "$top" rev-parse --show-toplevel 2>/dev/null) ||
		skip "not a git checkout"
	[ "$(cd "$toplevel" && pwd -P)" = "$top" ] ||
		skip "not the top of a git checkout"
	grep -qw overlay /proc/filesystems || skip "no overlayfs"
	unshare -m true 2>/dev/null || skip "cannot unshare a mount namespace"

	tmp=$(mktemp -d "${TMPDIR:-/tmp}/agentgate-pkgtest.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	trap 'exit 99' HUP INT TERM

	if ! "$top/packaging/build-deb.sh" "$tmp/debs" >"$tmp/build.log" 2>&1
	then
		tail -n 50 "$tmp/build.log"
		echo "FAIL: building the packages (log above)"
		exit 1
	fi
	grep -E '^[EWO]: ' "$tmp/build.log" || true

	# Mounts made in there vanish with the namespace even if the
	# script dies; the inner part still unmounts them itself.
	unshare -m --propagation private "$self" --in-namespace "$tmp"
	exit $?
fi

# ---- inside the private mount namespace ----

tmp=$2
root=$tmp/root
before=$tmp/before
failures=0

fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

in_root() {
	chroot "$root" /usr/bin/env -i \
		PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C \
		DEBIAN_FRONTEND=noninteractive "$@"
}

# pamtester SERVICE USER OPS... with stdin as the answers.
expect_ok() {
	what=$1
	shift
	if ! in_root pamtester agentgate-test "$@" >"$tmp/pam.out" 2>&1
	then
		cat "$tmp/pam.out"
		fail "$what"
	else
		echo "ok: $what"
	fi
}

expect_denied() {
	what=$1
	shift
	if in_root pamtester agentgate-test "$@" >"$tmp/pam.out" 2>&1
	then
		cat "$tmp/pam.out"
		fail "$what"
	else
		echo "ok: $what"
	fi
}

unmount_all() {
	for m in "$root/sys" "$root/proc"; do
		mountpoint -q "$m" && umount "$m"
	done
	mountpoint -q "$root/dev" && umount -R "$root/dev"
	mountpoint -q "$root" && umount "$root"
	mountpoint -q "$tmp/layer" && umount "$tmp/layer"
}
trap unmount_all EXIT

# The upper layer lives on a tmpfs: overlayfs refuses an upper
# directory that lies inside its own lower layer, here "/".
mkdir -p "$root" "$tmp/layer" "$before"
mount -t tmpfs -o mode=0700 agentgate-test "$tmp/layer" || exit 77
mkdir "$tmp/layer/upper" "$tmp/layer/work"
mount -t overlay agentgate-test \
	-o "lowerdir=/,upperdir=$tmp/layer/upper,workdir=$tmp/layer/work" \
	"$root" || exit 77
mount --bind /proc "$root/proc"
mount --rbind /dev "$root/dev"
mount -o bind,ro /sys "$root/sys"

# Nothing may be started from maintainer scripts in here.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"

saved="etc/nsswitch.conf etc/pam.d/common-auth etc/pam.d/common-account
	etc/pam.d/common-session etc/pam.d/common-session-noninteractive
	etc/pam.d/common-password"
for f in $saved; do
	[ -e "$root/$f" ] && cp -p "$root/$f" "$before/${f##*/}"
done

mkdir "$root/tmp/agentgate-debs"
for p in libnss-agentgate libpam-agentgate agentgate; do
	cp "$tmp"/debs/${p}_*.deb "$root/tmp/agentgate-debs/"
done
if ! in_root sh -c 'dpkg -i /tmp/agentgate-debs/*.deb' \
		>"$tmp/dpkg.log" 2>&1; then
	cat "$tmp/dpkg.log"
	fail "dpkg -i"
	exit 1
fi
echo "ok: packages installed"

for db in passwd group; do
	grep -Eq "^$db:.*[[:space:]]agentgate([[:space:]]|\$)" \
		"$root/etc/nsswitch.conf" ||
		fail "nsswitch.conf $db line lacks agentgate"
done
grep -q pam_agentgate "$root"/etc/pam.d/common-* &&
	fail "profile enabled at install; it must wait for the admin"

# An issuer with a fresh key.  No daemon runs in here, so logins must
# not wait for one.
in_root openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	-out /root/agentgate-test.key 2>/dev/null
mkdir -p "$root/etc/agentgate/keys"
in_root openssl pkey -in /root/agentgate-test.key -pubout \
	-out /etc/agentgate/keys/test.pem
conf=$root/etc/agentgate/agentgate.conf
cat >"$conf" <<'EOF'
[agentgate]
audience = agentgate-packaging-test
require_daemon = no

[issuer test]
iss = https://issuer.test/
keys = /etc/agentgate/keys/test.pem
prefix = agent-
EOF
chmod 644 "$conf" "$root/etc/agentgate/keys/test.pem"

in_root pam-auth-update --enable agentgate
grep -q pam_agentgate "$root/etc/pam.d/common-auth" ||
	fail "pam-auth-update --enable did not add the module"
grep -v '^#' "$root/etc/pam.d/common-auth"

cat >"$root/etc/pam.d/agentgate-test" <<'EOF'
@include common-auth
@include common-account
EOF

in_root useradd -m -s /bin/sh agtest-human
echo 'agtest-human:Human-pw-4-test' | in_root chpasswd

echo 'Human-pw-4-test' | expect_ok "human with password" \
	agtest-human authenticate acct_mgmt
echo 'wrong-password' | expect_denied "human with wrong password" \
	agtest-human authenticate
in_root getent passwd agent-test1 >/dev/null ||
	fail "NSS does not resolve agent-test1"
echo '' | expect_denied "agent without a token" \
	agent-test1 authenticate
echo 'eyJhbGciOiJub25lIn0.e30.' | expect_denied "agent with junk" \
	agent-test1 authenticate
expect_denied "agent account without auth" agent-test1 acct_mgmt \
	</dev/null
token=$(in_root agentgatectl mint --key /root/agentgate-test.key \
	--iss https://issuer.test/ --aud agentgate-packaging-test \
	--sub agent-test1 --ttl 300)
echo "$token" | expect_ok "agent with a valid token" \
	agent-test1 authenticate acct_mgmt

# A broken agentgate must not lock people out.
mv "$conf" "$conf.good"
printf 'this is not\n[a config\n' >"$conf"
chmod 644 "$conf"
echo 'Human-pw-4-test' | expect_ok "human, garbage agentgate.conf" \
	agtest-human authenticate acct_mgmt
echo "$token" | expect_denied "agent, garbage agentgate.conf" \
	agent-test1 authenticate acct_mgmt
mv "$conf.good" "$conf"

module=$(in_root dpkg -L libpam-agentgate | grep '/pam_agentgate\.so$')
mv "$root$module" "$root$module.away"
echo 'Human-pw-4-test' | expect_ok "human, module file missing" \
	agtest-human authenticate acct_mgmt
mv "$root$module.away" "$root$module"

rm -f "$root/etc/pam.d/agentgate-test"
if ! in_root dpkg --purge agentgate libpam-agentgate libnss-agentgate \
		>"$tmp/purge.log" 2>&1; then
	cat "$tmp/purge.log"
	fail "dpkg --purge"
fi
for f in $saved; do
	[ -e "$before/${f##*/}" ] || continue
	if ! cmp "$before/${f##*/}" "$root/$f"; then
		diff -u "$before/${f##*/}" "$root/$f"
		fail "/$f differs after purge"
	fi
done
[ -e "$root/etc/agentgate/agentgate.conf.example" ] &&
	fail "conffile left after purge"

if [ "$failures" -ne 0 ]; then
	echo "$failures check(s) failed"
	exit 1
fi
echo "all packaging checks passed"
exit 0
