# bash completion for jitmm. Commands, options, backend and workload names
# come from jitmm itself (its --help and `jitmm list`), so they stay in step
# with the binary that is installed.
_jitmm_words() # list what `jitmm list KIND` names (first column)
{
	"$1" list "$2" 2>/dev/null | awk '/^[^ ]/ { print $1 }'
}

_jitmm()
{
	local cur prev cmd i jitmm=${COMP_WORDS[0]}
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	cmd=
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-*) ;;
		*) cmd=${COMP_WORDS[i]}; break ;;
		esac
	done
	if [[ -z $cmd ]]; then
		COMPREPLY=($(compgen -W "$("$jitmm" --help 2>/dev/null | awk '/^commands:/ { on = 1; next } on && /^   [a-z]/ { print $1 }') --help --version" -- "$cur"))
		return
	fi
	case $prev in
	-b|--backend|--baseline|--candidate)
		local prefix=${cur%,*}
		[[ $prefix == "$cur" ]] && prefix= || prefix+=,
		COMPREPLY=($(compgen -P "$prefix" -W "$(_jitmm_words "$jitmm" backends) all" -- "${cur##*,}"))
		return ;;
	-w|--workload)
		COMPREPLY=($(compgen -W "$(_jitmm_words "$jitmm" workloads)" -- "$cur"))
		[[ $cur == trace:* ]] && COMPREPLY=($(compgen -P trace: -f -- "${cur#trace:}"))
		return ;;
	-p|--probe)
		COMPREPLY=($(compgen -W "$(_jitmm_words "$jitmm" probes)" -- "$cur"))
		return ;;
	-o|--out|--output|-j|--json|--events)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	esac
	case $cmd in
	list)
		COMPREPLY=($(compgen -W "backends workloads probes" -- "$cur")); return ;;
	trace)
		if [[ $prev == trace ]]; then
			COMPREPLY=($(compgen -W "$("$jitmm" trace --help 2>/dev/null | sed -n 's/^.*jitmm trace \([a-z][a-z-]*\).*$/\1/p' | sort -u)" -- "$cur"))
			return
		fi ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$("$jitmm" "$cmd" --help 2>/dev/null | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u)" -- "$cur"))
	else
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
}
complete -F _jitmm jitmm
