#!/bin/bash
# TAP: `make install` with DESTDIR puts the binary, the man page, the bash
# and zsh completion (and the LLVM plugin when built) in place, the installed
# jitmm runs, both completions complete commands, backends and options from
# it, and `make uninstall` takes it all away again.
set -u
cd "$(dirname "$0")/.."
echo "1..5"
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); echo "not ok $n - $1"; }
skip() { n=$((n + 1)); echo "not ok $n # SKIP $1"; }
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
prefix=/usr/local
if make -s install SAN=0 TSAN=0 DESTDIR="$dest" >"$dest.log" 2>&1 &&
   [ -x "$dest$prefix/bin/jitmm" ] && [ -f "$dest$prefix/share/man/man1/jitmm.1" ] &&
   [ -f "$dest$prefix/share/bash-completion/completions/jitmm" ] &&
   [ -f "$dest$prefix/share/zsh/site-functions/_jitmm" ] &&
   { [ ! -f build/llvm/jitmm-llvm.so ] || [ -f "$dest$prefix/lib/jitmm/jitmm-llvm.so" ]; } &&
   "$dest$prefix/bin/jitmm" --version | grep -q '^jitmm '; then
	ok "make install DESTDIR=... installs binary, man page, completions (and plugin)"
else
	sed 's/^/# /' "$dest.log"; notok "make install DESTDIR=... installs binary, man page, completions (and plugin)"
fi
rm -f "$dest.log"
jitmm="$dest$prefix/bin/jitmm"

out=$(bash -c '
	source "$1/share/bash-completion/completions/jitmm"
	c() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _jitmm; echo "${COMPREPLY[*]}"; }
	c "$2" ru; c "$2" run -b inprocess,single; c "$2" run --trim; c "$2" trace fr; c "$2" list w
' _ "$dest$prefix" "$jitmm" 2>&1)
want=$'run\ninprocess,single-pool\n--trim-at-end\nfrom-elf from-workload\nworkloads'
if [ "$(printf '%s\n' "$out" | head -n 5 | sed 's/ from-jitlink//')" = "$want" ]; then
	ok "bash completion: commands, backends after a comma, options, trace subcommands"
else
	printf '%s\n' "$out" | sed 's/^/# got: /'; notok "bash completion: commands, backends after a comma, options, trace subcommands"
fi

if ! command -v zsh >/dev/null; then
	skip "zsh not installed (scripts/install-deps installs it)"
else
	# compadd/_describe/_values/_files stubbed to print what they are offered
	out=$(zsh -f -c '
		compadd() { local a; while [[ $1 == -* ]]; do [[ $1 == -a ]] && { shift; print -l -- ${(P)1}; return; }; [[ $1 == -- ]] && { shift; break; }; shift; done; print -l -- "$@"; }
		_describe() { print -l -- ${(P)4}; }
		_values() { shift 3; print -l -- "$@"; }
		_files() { print FILES; }
		source "$1/share/zsh/site-functions/_jitmm" >/dev/null 2>&1
		words=("$2" ""); CURRENT=2; _jitmm | grep -c "^run:"
		words=("$2" run -b ""); CURRENT=4; _jitmm | grep -cx single-pool
		words=("$2" run --tr); CURRENT=3; PREFIX=--tr; _jitmm | grep -cx -- --trim-at-end
	' _ "$dest$prefix" "$jitmm" 2>&1)
	if [ "$(echo $out)" = "1 1 1" ]; then
		ok "zsh completion: commands with summaries, backends, options"
	else
		printf '%s\n' "$out" | sed 's/^/# /'; notok "zsh completion: commands with summaries, backends, options"
	fi
fi

if man -l "$dest$prefix/share/man/man1/jitmm.1" >/dev/null 2>&1 || ! command -v man >/dev/null; then
	ok "the installed man page renders (or man is absent)"
else
	notok "the installed man page renders"
fi

make -s uninstall SAN=0 TSAN=0 DESTDIR="$dest" >/dev/null 2>&1
left=$(find "$dest" -type f | wc -l)
if [ "$left" -eq 0 ]; then
	ok "make uninstall DESTDIR=... removes every installed file"
else
	find "$dest" -type f | sed 's/^/# left: /'; notok "make uninstall DESTDIR=... removes every installed file"
fi
