#!/usr/bin/env bash
# Installs the build in $1 into a scratch prefix, checks that nothing
# lands outside that prefix, and builds a consumer against it twice: with
# find_package(roost) and with pkg-config.
#
# The install is staged with DESTDIR, so a file whose destination ignores
# the prefix lands in the staging tree, outside DESTDIR/PREFIX, where this
# script sees it, and never in the real file system (CI runs as root).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-test}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
DESTDIR=$work/stage cmake --install "$build" --prefix "$prefix" >/dev/null
outside=$(find "$work/stage" ! -type d ! -path "$work/stage$prefix/*")
if [ -n "$outside" ]; then
	echo "roost: the install wrote outside its prefix $prefix:" >&2
	echo "${outside//$work\/stage/}" >&2
	exit 1
fi
prefix=$work/stage$prefix
test -f "$prefix/lib/systemd/system/roostd@.service"
cmake -S tests/install -B "$work/consumer-build" \
	-DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/consumer-build" >/dev/null
LD_LIBRARY_PATH="$prefix/lib" "$work/consumer-build/consumer"
libdir=$(ls -d "$prefix"/lib*/pkgconfig | head -n1)
PKG_CONFIG_PATH="$libdir" pkg-config --exists roost
cc -o "$work/consumer-pc" tests/install/consumer.c \
	$(PKG_CONFIG_PATH="$libdir" pkg-config --cflags --libs roost)
LD_LIBRARY_PATH="$(dirname "$libdir")" "$work/consumer-pc"
echo "roost: install stays in its prefix; find_package and pkg-config work"
