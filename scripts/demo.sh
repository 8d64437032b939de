#!/usr/bin/env bash
# Command one: install what is missing, build, run the demos: two
# processes ping-ponging, then a supervised system under roostd.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
./build/examples/pingpong 100000

system="demo-$$"
log=build/roostd-demo.log
./build/daemon/roostd --system "$system" --config build/examples/echo.ini \
	--foreground 2>"$log" &
roostd=$!
trap 'kill -TERM $roostd 2>/dev/null || true' EXIT
./build/examples/echo_client "$system"
kill -TERM "$roostd"
wait "$roostd"
trap - EXIT
left=$(ls /dev/shm | grep -c "^roost\.$(id -u)\.$system" || true)
echo "demo: roostd's log:"
sed 's/^/  /' "$log"
echo "demo: roostd stopped the system; $left objects left in /dev/shm"
