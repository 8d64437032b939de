#!/usr/bin/env bash
# Command one: install what is missing, build, run the demos: two
# processes ping-ponging, then supervised systems under roostd: an echo
# actor that a client crashes, and the bank demo (examples/teller.c).
# Any outcome that is not the promised one fails it (exit 1, saying why).
# BUILD_DIR=dir builds there instead of build/.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
scripts/deps.sh
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
"$build"/examples/pingpong 100000

ulimit -c 0 # actors crash on purpose below: no core files
roostd=
log=$(mktemp)
trap '[ -z "$roostd" ] || kill -TERM "$roostd" 2>/dev/null; rm -f "$log"' EXIT

fail() {
	echo "demo: FAILED: $*" >&2
	echo "demo: roostd's log:" >&2
	sed 's/^/  /' "$log" >&2
	exit 1
}

# start_roostd SYSTEM CONFIG: roostd in the background, its log in $log.
start_roostd() {
	"$build"/daemon/roostd --system "$1" --config "$2" --foreground \
		2>"$log" &
	roostd=$!
}

# wait_roostd SYSTEM: roostd must exit 0 within 10 s and leave nothing
# of SYSTEM in /dev/shm.
wait_roostd() {
	local i left status=0

	for ((i = 0; i < 100; i++)); do
		kill -0 "$roostd" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$roostd" 2>/dev/null; then
		fail "roostd did not exit within 10 s"
	fi
	wait "$roostd" || status=$?
	roostd=
	[ "$status" -eq 0 ] || fail "roostd exited with status $status"
	left=$(ls /dev/shm | grep -cE "^roost\.$(id -u)\.$1([.~]|\$)" || true)
	[ "$left" -eq 0 ] || fail "$left objects of system $1 left in /dev/shm"
}

# The echo actor: SIGTERM to roostd stops the system.
system="demo-$$"
start_roostd "$system" "$build"/examples/echo.ini
"$build"/examples/echo_client "$system" || fail "echo_client failed"
kill -TERM "$roostd"
wait_roostd "$system"
echo "demo: roostd's log:"
sed 's/^/  /' "$log"
echo "demo: roostd stopped the system; nothing left in /dev/shm"

# The bank: a bank, three workers and a ticker (examples/bank.ini.in).
# The teller watches the balances grow, crashes worker.2, and asks
# roostd to shut the system down.
system="demo-bank-$$"
echo "demo: the bank system"
start_roostd "$system" "$build"/examples/bank.ini
"$build"/examples/teller "$system" || fail "the teller failed"
wait_roostd "$system"
echo "demo: roostd's log (its children's stderr goes there too):"
sed 's/^/  /' "$log"
for want in "started bank" "started worker.3" "started ticker" \
	"worker.2 killed by signal 6" "restarted worker.2" \
	"worker.2: job n = 0 was redelivered after my crash: skipped" \
	"shutdown requested" "bank: stopped after" "removed"; do
	grep -qF "$want" "$log" || fail "no '$want' in roostd's log"
done
if grep -qE "did not stop|after a failure|lost" "$log"; then
	fail "roostd's log shows a problem"
fi
# Shutdown stops the ticker first and the bank last, each after it has
# handled its mail: no job is lost on the way.
ticks=$(sed -n 's/^ticker: stopped after \([0-9]*\) ticks$/\1/p' "$log")
paid=$(sed -n 's/^bank: stopped after \([0-9]*\) deposits.*/\1/p' "$log")
if [ -z "$ticks" ] || [ "$ticks" != "$paid" ]; then
	fail "the ticker handed out ${ticks:-?} jobs, the bank took ${paid:-?}"
fi
echo "demo: all $ticks jobs were paid in; roostd exited 0 and left" \
	"nothing in /dev/shm"
