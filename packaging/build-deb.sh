#!/bin/sh
# Build the Debian packages of agentgate into OUTDIR.
#
#   packaging/build-deb.sh [--ref REV] [--check] [--no-lintian] OUTDIR
#
# The Debian packaging lives in packaging/debian, not in debian/ at
# the top of the tree, so the build happens in a copy: the sources are
# exported to a temporary directory (the working tree's files as they
# are now, or REV with --ref), packed as the .orig tarball,
# packaging/debian is copied in as debian/, and dpkg-buildpackage runs
# there.  The tree itself is never written to.
#
# The test suite is skipped (DEB_BUILD_OPTIONS=nocheck) unless --check
# is given: the tree's own "make check" runs it already, and it is
# that test suite which calls this script.  lintian runs on the result
# and any error fails the build.
set -eu

usage() {
	echo "usage: $0 [--ref REV] [--check] [--no-lintian] OUTDIR" >&2
	exit 2
}

ref=
check=no
lintian=yes
while [ $# -gt 1 ]; do
	case $1 in
	--ref) ref=$2; shift 2 ;;
	--check) check=yes; shift ;;
	--no-lintian) lintian=no; shift ;;
	*) usage ;;
	esac
done
[ $# -eq 1 ] || usage
case $1 in -*) usage ;; esac
mkdir -p "$1"
outdir=$(cd "$1" && pwd)

top=$(cd "$(dirname "$0")/.." && pwd)
version=$(dpkg-parsechangelog -l "$top/packaging/debian/changelog" \
	-S Version)
upstream=${version%-*}
# True when TOP is the top of a git checkout.  A release tree unpacked
# somewhere inside another checkout is not one.
in_checkout() {
	t=$(git -C "$top" rev-parse --show-toplevel 2>/dev/null) &&
		[ "$(cd "$t" && pwd -P)" = "$(cd "$top" && pwd -P)" ]
}

work=$(mktemp -d "${TMPDIR:-/tmp}/agentgate-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
src="$work/agentgate-$upstream"
mkdir "$src"

# Export the sources.  In a git checkout: tracked files and new files
# not ignored, as they are on disk (so that uncommitted work is what
# gets tested), or a commit with --ref.  Elsewhere (an unpacked
# release tarball) everything.
if [ -n "$ref" ]; then
	git -C "$top" archive --format=tar "$ref" | tar -x -C "$src"
elif in_checkout; then
	(cd "$top" &&
		git ls-files -z --cached --others --exclude-standard |
		xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f";
			done' sh |
		tar --null -T - -cf -) | tar -x -C "$src"
else
	(cd "$top" && tar -cf - .) | tar -x -C "$src"
fi

tar -C "$work" -czf "$work/agentgate_$upstream.orig.tar.gz" \
	"agentgate-$upstream"
rm -rf "$src/debian"
cp -a "$top/packaging/debian" "$src/debian"

opts=${DEB_BUILD_OPTIONS:-}
[ "$check" = yes ] || opts="${opts:+$opts }nocheck"
(cd "$src" && DEB_BUILD_OPTIONS="$opts" dpkg-buildpackage -us -uc -b)

changes=$(ls "$work"/agentgate_*.changes)
for f in $(sed -n '/^Files:/,/^[^ ]/s/^ .* \([^ ]*\)$/\1/p' \
	"$changes") "$(basename "$changes")"; do
	cp "$work/$f" "$outdir/"
done
echo "packages in $outdir:"
ls "$outdir"

if [ "$lintian" = yes ]; then
	# Warnings are either fixed or overridden with a reason in
	# debian/*.lintian-overrides; errors fail the build.
	lintian --fail-on error --info --display-info \
		"$outdir/$(basename "$changes")"
fi
