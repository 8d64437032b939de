#!/usr/bin/env bash
# The Python package against the libroost of build tree $1 (default
# build): install it into a venv of Debian's /usr/bin/python3 (where the
# python3-* packages live; not whatever python3 is first on PATH), run its
# pytest suite, run the suite again with the extension built under ASan and
# UBSan, and run the bench once, short, to see that it still works.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=$(realpath "${1:-build}")
py=/usr/bin/python3
venv="$build/pyvenv"
export ROOST_BUILD_DIR="$build" # setup.py links it; the tests run its roostd

echo "roost: the Python package, on $build" >&2
[ -x "$venv/bin/python" ] || "$py" -m venv --system-site-packages "$venv"
# Built from a copy inside the build tree: pip builds in place, and its
# objects must neither land in python/ nor come from another build's.
rm -rf "$build/pysrc"
cp -r python "$build/pysrc"
rm -rf "$build/pysrc/build" "$build"/pysrc/*.egg-info
"$venv/bin/pip" install -q --no-build-isolation \
	--no-deps --force-reinstall "$build/pysrc"
(cd "$build" && "$venv/bin/python" -m pytest -q -p no:cacheprovider \
	"$root/python/tests")

echo "roost: the Python suite with the extension under ASan + UBSan" >&2
asan="$build/pyasan"
rm -rf "$asan"
(cd "$build/pysrc" && ROOST_PY_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	"$py" setup.py -q build_ext --build-temp "$asan/tmp" \
	--build-lib "$asan/lib")
cp python/roost/*.py "$asan/lib/roost/"
# The interpreter is not instrumented: preload the runtimes, and leave
# leak checking off (CPython keeps its objects at exit on purpose).
(cd "$build" && LD_PRELOAD="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)" \
	ASAN_OPTIONS=detect_leaks=0 PYTHONPATH="$asan/lib" \
	"$py" -m pytest -q -p no:cacheprovider \
	"$root/python/tests")

echo "roost: the Python bench, short (figures are not checked here)" >&2
"$venv/bin/python" python/bench/bench_ipc.py --quick
