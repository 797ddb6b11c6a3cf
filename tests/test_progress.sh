#!/bin/bash
# TAP: progress goes to stderr only on a terminal, shows the ETA of the run
# and of the whole matrix, and uses no escape codes when TERM=dumb.
set -u
cd "$(dirname "$0")/.."
JITMM=${JITMM:-./jitmm}
echo "1..3"
if ! command -v script >/dev/null; then
	for i in 1 2 3; do echo "not ok $i # SKIP script(1) missing (util-linux)"; done
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
run="-r 1 --warmup 0 -p procfs -b null,inprocess -w llvm-5000 -j $tmp/r.json"
# script(1) gives jitmm a pseudo-terminal and copies what it writes
TERM=dumb script -qec "$JITMM run $run" "$tmp/dumb.log" >/dev/null 2>&1
if grep -q '\[1/2\] null on llvm-5000: [0-9]*/5000 graphs, [0-9]* s, all runs [0-9]' "$tmp/dumb.log" &&
   ! grep -q $'\033' "$tmp/dumb.log"; then
	echo "ok 1 - TERM=dumb: run and matrix ETA, no escape codes"
else
	od -c "$tmp/dumb.log" | head -20 | sed 's/^/# /'
	echo "not ok 1 - TERM=dumb: run and matrix ETA, no escape codes"
fi
TERM=xterm script -qec "$JITMM run $run" "$tmp/xterm.log" >/dev/null 2>&1
if grep -q $'\r\033\\[K\\[2/2\\] inprocess on llvm-5000' "$tmp/xterm.log"; then
	echo "ok 2 - a terminal: each progress line clears the last (ESC [K)"
else
	od -c "$tmp/xterm.log" | head -20 | sed 's/^/# /'
	echo "not ok 2 - a terminal: each progress line clears the last (ESC [K)"
fi
$JITMM run $run >/dev/null 2>"$tmp/err"
if ! grep -q 'graphs' "$tmp/err"; then
	echo "ok 3 - stderr not a terminal: no progress"
else
	sed 's/^/# /' "$tmp/err"
	echo "not ok 3 - stderr not a terminal: no progress"
fi
