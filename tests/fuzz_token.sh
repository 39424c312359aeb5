#!/bin/sh
# A bounded libFuzzer run of the token validator (AG_FUZZ_SECONDS,
# default 10); fuzz/run.sh skips cleanly when clang is missing.
exec "${abs_top_srcdir:-..}/fuzz/run.sh" "${AG_FUZZ_SECONDS:-10}"
