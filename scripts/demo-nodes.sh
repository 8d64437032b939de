#!/usr/bin/env bash
# The bank demo over two nodes on this machine (docs/distribution.md):
# a nats-server on a free loopback port; node "bank" runs roostd with the
# bank, its workers and the ticker (examples/bank.ini.in) and a gateway;
# node "teller" runs roostd with only a gateway, and the teller
# (examples/teller.c --node bank) joins it and tells the usual story
# across the nodes: balances, withdrawals, worker.2 crashed and restarted
# at the same address (seen through a monitor across the nodes). Then
# `roostctl nodes` on both, and both nodes and the server are stopped:
# roostd must exit 0 and leave nothing in /dev/shm. Any other outcome
# fails it (exit 1, saying why). BUILD_DIR=dir uses that build.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
scripts/deps.sh
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null

ulimit -c 0 # worker.2 crashes on purpose: no core file
work=$(mktemp -d)
nats='' bank='' teller=''
cleanup() {
	for p in $teller $bank $nats; do kill -TERM "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

fail() {
	echo "demo-nodes: FAILED: $*" >&2
	for f in "$work"/*.log; do
		echo "demo-nodes: $f:" >&2
		sed 's/^/  /' "$f" >&2
	done
	exit 1
}

nats-server -a 127.0.0.1 -p -1 --ports_file_dir "$work" 2>"$work/nats.log" &
nats=$!
for ((i = 0; i < 100; i++)); do
	port=$(sed -n 's/.*"nats":\["nats:\/\/127.0.0.1:\([0-9]*\)".*/\1/p' \
		"$work"/*.ports 2>/dev/null || true)
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || fail "nats-server did not start"

# gateway NODE ID: the [gateway] section of node NODE.
gateway() {
	printf '[gateway]\nprogram = %s\nnode = %s\nnode_id = %s\n' \
		"$(realpath "$build"/gateway/roost_gateway)" "$1" "$2"
	printf 'urls = nats://127.0.0.1:%s\n\n' "$port"
}
gateway bank 1 >"$work/bank.ini"
cat "$build"/examples/bank.ini >>"$work/bank.ini"
gateway teller 2 >"$work/teller.ini"

bank_sys="nodes-bank-$$" teller_sys="nodes-teller-$$"
"$build"/daemon/roostd --system "$bank_sys" --config "$work/bank.ini" \
	--foreground 2>"$work/bank.log" &
bank=$!
"$build"/daemon/roostd --system "$teller_sys" --config "$work/teller.ini" \
	--foreground 2>"$work/teller.log" &
teller=$!

"$build"/examples/teller "$teller_sys" --node bank ||
	fail "the teller failed"
echo "demo-nodes: roostctl nodes on each node:"
"$build"/tools/roostctl --system "$teller_sys" nodes | sed 's/^/  /'
"$build"/tools/roostctl --system "$bank_sys" nodes | sed 's/^/  /'
"$build"/tools/roostctl --system "$teller_sys" nodes | grep -qE '^bank +1 up' ||
	fail "node teller does not see node bank up"

# stop PID SYSTEM: SIGTERM, exit 0 within 10 s, nothing left in /dev/shm.
stop() {
	local status=0 left

	kill -TERM "$1"
	for ((i = 0; i < 100; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	wait "$1" || status=$?
	[ "$status" -eq 0 ] || fail "roostd of $2 exited with status $status"
	# shellcheck disable=SC2010 # names are ours: roost.UID.SYSTEM...
	left=$(ls /dev/shm | grep -cE "^roost\.$(id -u)\.$2([.~]|\$)" || true)
	[ "$left" -eq 0 ] || fail "$left objects of system $2 left in /dev/shm"
}
stop "$teller" "$teller_sys"
teller=
stop "$bank" "$bank_sys"
bank=
for want in "gateway bank: node 'teller' (id 2) is up" \
	"worker.2 killed by signal 6" "restarted worker.2"; do
	grep -qF "$want" "$work/bank.log" || fail "no '$want' in bank's log"
done
echo "demo-nodes: the teller on node teller ran the bank on node bank;" \
	"both nodes stopped cleanly"
