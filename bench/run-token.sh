#!/bin/sh
# Build bench/token_bench.c with optimisation (no sanitizers) straight
# from the sources and run it.  Arguments go to the benchmark
# (--strict: exit 1 when validation costs more than 2x a raw verify).
# Runs as root: the validator trusts only root-owned key files.
set -eu

src=$(cd "$(dirname "$0")/.." && pwd)
cc=${CC:-cc}
tmp=$(mktemp -d /tmp/agbench-build.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

lib=$src/lib
# shellcheck disable=SC2046
"$cc" -O2 -g -D_GNU_SOURCE -I"$lib" -I"$src/tests" -o "$tmp/token_bench" \
	"$src/bench/token_bench.c" "$src/tests/tokgen.c" \
	"$lib/token.c" "$lib/keys.c" "$lib/jti.c" "$lib/approval.c" \
	"$lib/revoke.c" "$lib/config.c" "$lib/names.c" "$lib/util.c" \
	$(pkg-config --cflags --libs jansson libcrypto)
"$tmp/token_bench" "$@"
