#!/bin/sh
# Every test, from scratch: install dependencies, build with warnings
# as errors, run the suite plain (including the root-only tests: real
# sshd, namespaces, cgroups) and under ASan+UBSan, run the fuzzer for a
# bounded time, then make distcheck.  Run as root from the repository.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc)
fuzz_seconds=${FUZZ_SECONDS:-60}

step() { printf '\n==== %s\n' "$*"; }

check_in() {
	dir=$1
	shift
	rm -rf "$dir"
	mkdir -p "$dir"
	(cd "$dir" &&
	 "$top/configure" -q --prefix=/usr --sysconfdir=/etc \
		--localstatedir=/var --enable-werror "$@" >/dev/null &&
	 make -s -j"$jobs" >/dev/null &&
	 make -s -j"$jobs" check) || {
		find "$dir/tests" -name '*.log' ! -name test-suite.log \
			-exec grep -l -E '^(FAIL|ERROR)' {} + 2>/dev/null |
			while read -r log; do
				echo "---- $log"
				tail -n 60 "$log"
			done
		return 1
	}
}

step "dependencies"
"$top/scripts/deps.sh"

step "bootstrap"
cd "$top"
autoreconf -fi >/dev/null 2>&1

step "build and test (plain, -Werror)"
check_in "$top/build/plain"

step "build and test (ASan + UBSan)"
check_in "$top/build/asan" --enable-sanitizers

step "valgrind over the unit tests (plain build)"
for t in test_config test_names test_token test_session test_revoke \
	test_nss_direct; do
	(cd "$top/build/plain/tests" &&
	 valgrind -q --error-exitcode=9 --leak-check=full \
		--errors-for-leak-kinds=definite "./$t" >"$t.valgrind" 2>&1) ||
		{ tail -n 40 "$top/build/plain/tests/$t.valgrind"; exit 1; }
	echo "valgrind: $t clean"
done

step "fuzz the token validator for ${fuzz_seconds}s"
"$top/fuzz/run.sh" "$fuzz_seconds"

step "make distcheck"
(cd "$top/build/plain" && make -s distcheck >/dev/null)
echo "distcheck passed"

step "all passed"
# One closing line for the whole run, counted from both test suites.
awk '/^# (PASS|XFAIL):/ { p += $3 } /^# (FAIL|XPASS|ERROR):/ { f += $3 }
	/^# SKIP:/ { s += $3 }
	END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' \
	"$top/build/plain/tests/test-suite.log" \
	"$top/build/asan/tests/test-suite.log"
