#!/usr/bin/env bash
# Installs the build in $1 into a scratch prefix and builds a consumer
# against it twice: with find_package(roost) and with pkg-config.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-test}
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
cmake -S tests/install -B "$prefix/consumer-build" \
	-DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$prefix/consumer-build" >/dev/null
LD_LIBRARY_PATH="$prefix/lib" "$prefix/consumer-build/consumer"
libdir=$(ls -d "$prefix"/lib*/pkgconfig | head -n1)
PKG_CONFIG_PATH="$libdir" pkg-config --exists roost
cc -o "$prefix/consumer-pc" tests/install/consumer.c \
	$(PKG_CONFIG_PATH="$libdir" pkg-config --cflags --libs roost)
LD_LIBRARY_PATH="$(dirname "$libdir")" "$prefix/consumer-pc"
echo "roost: install, find_package and pkg-config work"
