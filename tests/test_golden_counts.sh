#!/bin/bash
# TAP: every backend's counts (VMAs added and at peak, mmap, mprotect,
# munmap, madvise calls) on the default workloads and the shipped traces are
# those of tests/fixtures/counts.golden; a faster harness or faster
# bookkeeping must not change what a model does. An intended change of a
# model's counts regenerates the file: scripts/golden-counts.
set -u
cd "$(dirname "$0")/.."
JITMM=${JITMM:-./jitmm}
echo "1..1"
if ! command -v python3 >/dev/null; then
	echo "not ok 1 # SKIP python3 missing"
	exit 0
fi
# ASan's allocator maps memory inside the measured window: its VMA counts
# are not the model's, its call counts are
what="counts of every backend match tests/fixtures/counts.golden"
opt=()
case "$JITMM" in *-san) opt=(--syscalls-only); what="$what (calls only: ASan maps memory)" ;; esac
if out=$(scripts/golden-counts --check --jitmm "$JITMM" "${opt[@]}" 2>&1); then
	echo "ok 1 - $what"
else
	echo "$out" | sed 's/^/# /'
	echo "not ok 1 - $what"
fi
