#!/bin/sh
# What the two modules show the processes that load them.  The NSS
# module runs inside every process on the host: it may need libc and
# nothing else, export nothing but _nss_agentgate_*, and must not even
# reference syslog, which would change its host's syslog identity.
# The PAM module exports only the pam_sm_* entry points.
set -eu

b=${abs_top_builddir:-..}
nss=$b/nss_module/.libs/libnss_agentgate.so.2
pam=$b/pam_module/.libs/pam_agentgate.so
fail() { echo "FAIL: $*"; exit 1; }

command -v readelf >/dev/null && command -v nm >/dev/null ||
	{ echo "SKIP: binutils missing"; exit 77; }

needed=$(readelf -d "$nss" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' |
	grep -v -e '^libc\.so\.6$' -e '^ld-linux' -e '^libasan' \
		-e '^libubsan' || true)
[ -z "$needed" ] || fail "NSS module needs more than libc: $needed"

exports=$(nm -D --defined-only "$nss" | awk '{ print $3 }' |
	grep -v -e '^_nss_agentgate_' -e '^LIBNSS' -e '^_init$' \
		-e '^_fini$' || true)
[ -z "$exports" ] || fail "NSS module exports: $exports"

if nm -D --undefined-only "$nss" | grep -q -w -e syslog -e openlog \
	-e vsyslog -e __syslog_chk; then
	fail "NSS module references syslog"
fi

exports=$(nm -D --defined-only "$pam" | awk '{ print $3 }' |
	grep -v -e '^pam_sm_' -e '^_init$' -e '^_fini$' || true)
[ -z "$exports" ] || fail "PAM module exports: $exports"

echo "modules: NSS needs libc only and exports _nss_agentgate_*;" \
	"PAM exports pam_sm_* only"
