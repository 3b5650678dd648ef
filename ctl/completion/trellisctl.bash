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
        --trusted-ca-file|--cert-file|--key-file|--config|--render|--etcdctl)
            COMPREPLY=($(compgen -f -- "$cur"))
            return ;;
        --out)
            COMPREPLY=($(compgen -d -- "$cur"))
            return ;;
        --url|--timeout)
            return ;;
    esac

    # The command words typed so far, skipping options and their values.
    local i cmd="" sub="" action=""
    for ((i = 1; i < cword; i++)); do
        case "${words[i]}" in
            --url|--trusted-ca-file|--cert-file|--key-file|--timeout|--config|--format|--render|--out|--etcdctl) ((i++)) ;;
            -*) ;;
            *)
                if [[ -z "$cmd" ]]; then cmd="${words[i]}"
                elif [[ -z "$sub" ]]; then sub="${words[i]}"
                elif [[ -z "$action" ]]; then action="${words[i]}"
                fi ;;
        esac
    done

    if [[ "$cur" == -* ]]; then
        local extra=""
        [[ "$cmd" == configure ]] && extra="--overwrite"
        [[ "$sub" == member-add || "$sub" == member-replace ]] && extra="--render --out --voter --wait"
        [[ "$sub" == rollout ]] && extra="--wait"
        [[ "$action" == save ]] && extra="--overwrite"
        [[ "$action" == status ]] && extra="--etcdctl"
        COMPREPLY=($(compgen -W "$global_opts $extra" -- "$cur"))
        return
    fi

    case "$cmd" in
        "") COMPREPLY=($(compgen -W "cluster configure version completion" -- "$cur")) ;;
        cluster)
            if [[ -z "$sub" ]]; then
                COMPREPLY=($(compgen -W "certs health member-add member-list member-remove member-replace member-update rollout snapshot" -- "$cur"))
            elif [[ "$sub" == snapshot && -z "$action" ]]; then
                COMPREPLY=($(compgen -W "save status" -- "$cur"))
            elif [[ "$sub" == snapshot ]]; then
                COMPREPLY=($(compgen -f -- "$cur"))
            fi ;;
        completion)
            [[ -z "$sub" ]] && COMPREPLY=($(compgen -W "bash zsh" -- "$cur")) ;;
    esac
}
complete -F _trellisctl trellisctl
