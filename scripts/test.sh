#!/usr/bin/env bash
# Command two: install what is missing, build with warnings as errors, and
# run the whole test suite under ctest. .ci/run calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/check-layers.sh
scripts/check-readme.sh
cmake -S . -B build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo -DROOST_WERROR=ON \
	>/dev/null
cmake --build build-test -j"$(nproc)"
scripts/check-layers.sh build-test
# Every other CMake build type compiles warning-free too (compile only;
# Debug is the sanitized build below). -O3 and NDEBUG see code paths,
# and -Wmaybe-uninitialized cases, that RelWithDebInfo does not.
for type in Release MinSizeRel; do
	echo "roost: a $type build with warnings as errors" >&2
	cmake -S . -B "build-${type,,}" -DCMAKE_BUILD_TYPE="$type" \
		-DROOST_WERROR=ON >/dev/null
	cmake --build "build-${type,,}" -j"$(nproc)" >/dev/null
done
(cd build-test && ctest --output-on-failure --timeout 600 -j1)
# roost_scale10k at 500 actors (about 10 s): it fails on errors only (a
# roostd that does not come up, an actor ls does not list, a shutdown
# that leaves shared memory); its PASS/MISS figures are not judged here.
build-test/bench/roost_scale10k --actors 500 --samples 50
scripts/check-install.sh build-test
# The Python package over this libroost (python/README.md).
scripts/test-python.sh build-test

# valgrind memcheck on examples (forked actors included: valgrind follows
# fork); roostd itself runs under valgrind in check_supervise and
# check_roostd with ROOSTD_WRAPPER (docs/STATUS.md), not here, for time.
echo "roost: examples under valgrind" >&2
for ex in "pingpong 2000" graceful_stop tx_atomically; do
	# shellcheck disable=SC2086
	valgrind -q --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite build-test/examples/$ex >/dev/null
done

# The same suite under AddressSanitizer and UndefinedBehaviorSanitizer.
echo "roost: the suite again under ASan + UBSan" >&2
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DROOST_WERROR=ON \
	-DROOST_ASAN=ON -DROOST_UBSAN=ON >/dev/null
cmake --build build-asan -j"$(nproc)" >/dev/null
(cd build-asan && ctest --output-on-failure --timeout 600 -j1)

# ThreadSanitizer where threads meet: roostd's pidfd watcher, its metrics
# endpoint's thread and its main loop (with its signal handlers), driven
# by the roostd suites. Every
# process here is built with TSan; roostd exits 66 on a report, which
# fails the suite. No pthread object lives in shared memory any more
# (roost's locks are plain atomic words), so every report is on.
echo "roost: roostd under ThreadSanitizer" >&2
CC=clang cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DROOST_TSAN=ON \
	>/dev/null
cmake --build build-tsan --target check_supervise check_roostd \
	check_scribble check_stops check_metrics -j"$(nproc)" >/dev/null
for t in check_supervise check_roostd check_scribble check_stops \
	check_metrics; do
	TSAN_OPTIONS="halt_on_error=1 exitcode=66" \
		build-tsan/tests/$t
done

# The shared-memory validators under libFuzzer: for each target, replay
# its corpus and every past finding, then fuzz for a short while
# (ROOST_FUZZ_SECONDS each).
echo "roost: fuzzing the shared-memory validators" >&2
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DROOST_FUZZ=ON \
	-DROOST_ASAN=ON -DROOST_UBSAN=ON >/dev/null
cmake --build build-fuzz --target fuzz_mbox fuzz_sys fuzz_config fuzz_decode \
	fuzz_json fuzz_wire -j"$(nproc)" >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for t in mbox sys config decode json wire; do
	mkdir -p "$work/$t"
	cp tests/fuzz/corpus_$t/* "$work/$t"/
	replay=(tests/fuzz/corpus_$t)
	[ -d tests/fuzz/regress_$t ] && replay+=(tests/fuzz/regress_$t)
	build-fuzz/tests/fuzz_$t -runs=0 "${replay[@]}"
	build-fuzz/tests/fuzz_$t -max_total_time="${ROOST_FUZZ_SECONDS:-15}" \
		-max_len=9216 -artifact_prefix="$work/$t-" "$work/$t"
done
echo "roost: fuzzing found nothing"

# Reaching here means every step passed (set -e): the layering and README
# checks, Release and MinSizeRel builds without a warning, the ctest
# suites twice (plain and sanitized), roost_scale10k at 500 actors, the
# install check, the Python suite
# twice (plain and sanitized), three examples under valgrind, four suites
# under TSan and the six fuzz targets.
suites=$(cd build-test && ctest -N | sed -n 's/^Total Tests: //p')
echo "summary: $((2 * suites + 18)) passed, 0 failed"
