#!/usr/bin/env bash
# Command two: install what is missing, build with warnings as errors, and
# run the whole test suite under ctest. .ci/run calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo -DROOST_WERROR=ON \
	>/dev/null
cmake --build build-test -j"$(nproc)"
(cd build-test && ctest --output-on-failure --timeout 600 -j1)
scripts/check-install.sh build-test

# The same suite under AddressSanitizer and UndefinedBehaviorSanitizer.
echo "roost: the suite again under ASan + UBSan" >&2
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DROOST_WERROR=ON \
	-DROOST_ASAN=ON -DROOST_UBSAN=ON >/dev/null
cmake --build build-asan -j"$(nproc)" >/dev/null
(cd build-asan && ctest --output-on-failure --timeout 600 -j1)

# The shared-memory validators under libFuzzer: replay the corpus and
# every past finding, then fuzz for a short while (ROOST_FUZZ_SECONDS).
echo "roost: fuzzing the mailbox validators" >&2
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DROOST_FUZZ=ON \
	-DROOST_ASAN=ON -DROOST_UBSAN=ON >/dev/null
cmake --build build-fuzz --target fuzz_mbox -j"$(nproc)" >/dev/null
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
cp tests/fuzz/corpus_mbox/* "$corpus"/
build-fuzz/tests/fuzz_mbox -runs=0 tests/fuzz/regress tests/fuzz/corpus_mbox
build-fuzz/tests/fuzz_mbox -max_total_time="${ROOST_FUZZ_SECONDS:-20}" \
	-max_len=9216 -artifact_prefix="$corpus/" "$corpus"
echo "roost: fuzzing found nothing"

# Reaching here means every step passed (set -e): the ctest suites twice
# (plain and sanitized), the install check and the fuzz run.
suites=$(cd build-test && ctest -N | sed -n 's/^Total Tests: //p')
echo "summary: $((2 * suites + 2)) passed, 0 failed"
