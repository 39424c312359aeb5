#!/bin/sh
# Build the RPM packages of agentgate into OUTDIR.
#
#   packaging/build-rpm.sh [--tarball agentgate-VERSION.tar.gz] OUTDIR
#
# rpmbuild works from the "make dist" tarball.  Without --tarball one
# is made from a copy of this tree (its files as they are on disk):
# autoreconf, configure and "make dist" run in a temporary directory,
# never in the tree.  On a host whose rpm database knows nothing of
# the build dependencies (Debian, with the "rpm" package), they are
# not checked, and no debuginfo packages are made: find-debuginfo is
# Fedora's.
set -eu

usage() {
	echo "usage: $0 [--tarball FILE] OUTDIR" >&2
	exit 2
}

tarball=
while [ $# -gt 1 ]; do
	case $1 in
	--tarball) tarball=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
		shift 2 ;;
	*) usage ;;
	esac
done
[ $# -eq 1 ] || usage
case $1 in -*) usage ;; esac
mkdir -p "$1"
outdir=$(cd "$1" && pwd)

top=$(cd "$(dirname "$0")/.." && pwd)
# True when TOP is the top of a git checkout.  A release tree unpacked
# somewhere inside another checkout is not one.
in_checkout() {
	t=$(git -C "$top" rev-parse --show-toplevel 2>/dev/null) &&
		[ "$(cd "$t" && pwd -P)" = "$(cd "$top" && pwd -P)" ]
}

work=$(mktemp -d "${TMPDIR:-/tmp}/agentgate-rpm.XXXXXX")
trap 'rm -rf "$work"' EXIT

if [ -z "$tarball" ]; then
	mkdir "$work/src" "$work/build"
	if in_checkout; then
		(cd "$top" &&
			git ls-files -z --cached --others --exclude-standard |
			xargs -0 sh -c 'for f; do [ -e "$f" ] &&
				printf "%s\0" "$f"; done' sh |
			tar --null -T - -cf -) | tar -x -C "$work/src"
	else
		(cd "$top" && tar -cf - .) | tar -x -C "$work/src"
	fi
	(cd "$work/src" && autoreconf -fi >/dev/null 2>&1)
	(cd "$work/build" && ../src/configure >/dev/null && make dist >/dev/null)
	tarball=$(ls "$work"/build/agentgate-*.tar.gz)
fi

mkdir -p "$work/rpm/SOURCES" "$work/rpm/SPECS"
cp "$tarball" "$work/rpm/SOURCES/"
tar -xzf "$tarball" -C "$work" --wildcards '*/packaging/rpm/agentgate.spec'
cp "$work"/agentgate-*/packaging/rpm/agentgate.spec "$work/rpm/SPECS/"

set -- --define "_topdir $work/rpm"
if ! rpm -q --quiet glibc 2>/dev/null; then
	set -- "$@" --nodeps --define 'debug_package %{nil}'
fi
rpmbuild "$@" -bb "$work/rpm/SPECS/agentgate.spec"

find "$work/rpm/RPMS" -name '*.rpm' -exec cp {} "$outdir/" \;
echo "packages in $outdir:"
ls "$outdir"
