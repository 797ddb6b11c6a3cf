#!/bin/bash
# TAP: every #include runs downward (scripts/check-includes against the
# rooms and arrows of docs/design.md), and the check itself catches a
# planted wrong-way include and a planted cycle.
set -u
cd "$(dirname "$0")/.."
echo "1..3"
if out=$(scripts/check-includes 2>&1); then
	echo "ok 1 - every include runs downward, no include cycle"
else
	echo "$out" | sed 's/^/# /'
	echo "not ok 1 - every include runs downward, no include cycle"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/reports" "$tmp/allocators" "$tmp/linker"
printf '#include "../allocators/os.h"\n' > "$tmp/reports/r.c"
: > "$tmp/allocators/os.h"
out=$(scripts/check-includes "$tmp" 2>&1)
if [ $? -eq 1 ] && grep -q 'reports/r.c:1: reports/ includes allocators/os.h' <<<"$out"; then
	echo "ok 2 - a wrong-way include (reports -> allocators) is reported"
else
	echo "$out" | sed 's/^/# /'
	echo "not ok 2 - a wrong-way include (reports -> allocators) is reported"
fi
rm -f "$tmp/reports/r.c"
printf '#include "b.h"\n' > "$tmp/linker/a.c"; : > "$tmp/linker/a.h"
printf '#include "a.h"\n' > "$tmp/linker/b.c"; : > "$tmp/linker/b.h"
out=$(scripts/check-includes "$tmp" 2>&1)
if [ $? -eq 1 ] && grep -q 'include cycle: linker/a -> linker/b -> linker/a' <<<"$out"; then
	echo "ok 3 - an include cycle inside a room is reported"
else
	echo "$out" | sed 's/^/# /'
	echo "not ok 3 - an include cycle inside a room is reported"
fi
