# bash completion for trellisctl. Install: trellisctl completion bash > /etc/bash_completion.d/trellisctl
# or, for one shell: source <(trellisctl completion bash)
_trellisctl() {
    local cur prev words cword
    if declare -F _init_completion >/dev/null 2>&1; then
        _init_completion || return
    else
        cur="${COMP_WORDS[COMP_CWORD]}"
        prev="${COMP_WORDS[COMP_CWORD-1]}"
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
    fi

    local global_opts="--url --trusted-ca-file --cert-file --key-file --timeout --insecure-skip-tls-verify --config --format --help --version"

    case "$prev" in
        --format)
            COMPREPLY=($(compgen -W "table json yaml" -- "$cur"))
            return ;;
        --trusted-ca-file|--cert-file|--key-file|--config|--render)
            COMPREPLY=($(compgen -f -- "$cur"))
            return ;;
        --out)
            COMPREPLY=($(compgen -d -- "$cur"))
            return ;;
        --url|--timeout)
            return ;;
    esac

    # The command words typed so far, skipping options and their values.
    local i cmd="" sub=""
    for ((i = 1; i < cword; i++)); do
        case "${words[i]}" in
            --url|--trusted-ca-file|--cert-file|--key-file|--timeout|--config|--format|--render|--out) ((i++)) ;;
            -*) ;;
            *)
                if [[ -z "$cmd" ]]; then cmd="${words[i]}"
                elif [[ -z "$sub" ]]; then sub="${words[i]}"
                fi ;;
        esac
    done

    if [[ "$cur" == -* ]]; then
        local extra=""
        [[ "$cmd" == configure ]] && extra="--overwrite"
        [[ "$sub" == member-add || "$sub" == member-replace ]] && extra="--render --out --voter --wait"
        COMPREPLY=($(compgen -W "$global_opts $extra" -- "$cur"))
        return
    fi

    case "$cmd" in
        "") COMPREPLY=($(compgen -W "cluster configure version completion" -- "$cur")) ;;
        cluster)
            [[ -z "$sub" ]] && COMPREPLY=($(compgen -W "health member-add member-list member-remove member-replace member-update" -- "$cur")) ;;
        completion)
            [[ -z "$sub" ]] && COMPREPLY=($(compgen -W "bash zsh" -- "$cur")) ;;
    esac
}
complete -F _trellisctl trellisctl
