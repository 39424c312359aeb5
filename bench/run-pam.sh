#!/bin/sh
# Build bench/pam_bench.c and run it against a build tree's module:
#
#	sudo bench/run-pam.sh BUILDDIR
#
# BUILDDIR must be a plain (no sanitizer) build.  Needs root (config
# and keys must be root-owned), unshare and nss_wrapper.
set -eu

src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:?usage: run-pam.sh BUILDDIR}" && pwd)
module=$build/pam_module/.libs/pam_agentgate.so
[ -f "$module" ] || { echo "no $module: build first" >&2; exit 2; }

tmp=$(mktemp -d /tmp/agpambench-build.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

# shellcheck disable=SC2046
${CC:-cc} -O2 -g -D_GNU_SOURCE -I"$src/lib" -I"$src/tests" \
	-o "$tmp/pam_bench" "$src/bench/pam_bench.c" "$src/tests/tokgen.c" \
	"$src/lib/names.c" "$src/lib/util.c" "$src/lib/keys.c" "$src/lib/config.c" \
	$(pkg-config --cflags --libs libcrypto jansson) -lpam
# Its own mount namespace, so the runtime directory can be a tmpfs as
# /run is in production.
AG_BENCH_TMPFS=1 unshare -m --propagation private "$tmp/pam_bench" "$module"
