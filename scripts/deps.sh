#!/bin/sh
# Install what building, testing and the demo need on Debian 12.
# Idempotent; run as root.  Packages only, from Debian's archive.
set -eu

[ "$(id -u)" = 0 ] || { echo "deps.sh: run as root" >&2; exit 1; }

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
	build-essential autoconf automake libtool pkg-config \
	libpam0g-dev libjwt-dev libjansson-dev libssl-dev check \
	openssh-server openssh-client openssl \
	libpam-wrapper libnss-wrapper pamtester \
	clang libclang-rt-14-dev valgrind \
	iproute2 procps util-linux passwd cron at \
	debhelper devscripts lintian fakeroot rpm \
	git ca-certificates >/dev/null
