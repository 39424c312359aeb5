#!/bin/sh
# The main job, from scratch: install dependencies, build, then in a
# sandbox (private mount, network and pid namespaces) log an agent in
# over real SSH with a 20-second token and watch it being cut off.
# Nothing on the host is changed beyond the installed packages and
# the build directory.  Run as root from the repository.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/build/demo

"$top/scripts/deps.sh"
cd "$top"
autoreconf -fi >/dev/null 2>&1
mkdir -p "$build"
cd "$build"
"$top/configure" -q --prefix=/usr --sysconfdir=/etc \
	--localstatedir=/var --enable-werror >/dev/null
make -s -j"$(nproc)" >/dev/null
make -s -C tests e2e_logsink >/dev/null

abs_top_builddir=$build ag_sysconfdir=/etc \
	exec "$top/tests/e2e/e2e.sh" --demo
