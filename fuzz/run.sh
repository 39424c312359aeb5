#!/bin/sh
# Build the token validator fuzzer with clang straight from the sources
# (not via automake) and run it for SECONDS (default 60).
#
#	fuzz/run.sh [SECONDS]
#
# Skips (exit 0) when clang or libFuzzer is missing.  Builds and works
# in a temporary directory removed at exit; a crashing input is copied
# to ./fuzz-token-crash-* so it can be replayed.  Runs as root: the
# validator trusts only root-owned key files.
set -eu

secs=${1:-60}
src=$(cd "$(dirname "$0")/.." && pwd)
cc=${CLANG:-clang}

if ! command -v "$cc" >/dev/null 2>&1; then
	echo "fuzz: $cc not found, skipping"
	exit 0
fi

tmp=$(mktemp -d /tmp/agfuzz-run.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { return 0; }' \
	>"$tmp/probe.c"
if ! "$cc" -fsanitize=fuzzer "$tmp/probe.c" -o "$tmp/probe" \
		>/dev/null 2>&1; then
	echo "fuzz: $cc has no libFuzzer (libclang-rt-dev), skipping"
	exit 0
fi

flags="-g -O1 -D_GNU_SOURCE -fno-sanitize-recover=all"
flags="$flags -fsanitize=fuzzer,address,undefined"
libs=$(pkg-config --cflags --libs jansson libcrypto)
lib=$src/lib
# shellcheck disable=SC2086
"$cc" $flags -I"$lib" -o "$tmp/token_fuzz" "$src/fuzz/token_fuzz.c" \
	"$lib/token.c" "$lib/keys.c" "$lib/config.c" "$lib/names.c" \
	"$lib/util.c" $libs

mkdir "$tmp/corpus"
export TMPDIR="$tmp"
echo "fuzz: running token_fuzz for $secs s"
"$tmp/token_fuzz" -max_total_time="$secs" -max_len=9000 \
	-timeout=10 -print_final_stats=1 \
	-artifact_prefix="$PWD/fuzz-token-crash-" \
	"$tmp/corpus" "$src/fuzz/corpus/token"
