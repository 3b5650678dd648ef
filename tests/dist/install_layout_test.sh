#!/usr/bin/env bash
# What `meson install` lays out (docs/install.md), checked file by file in a scratch root: the five
# tools, a man page and bash/zsh completion for each (generated from the tool's --help: every
# subcommand the binary lists is in them), the systemd unit (Type=notify, the installed binary's
# path, no restart for a removed member) and the sysusers.d entry of the `trellis` user.
# Usage: install_layout_test.sh SOURCE_ROOT BUILD_ROOT
set -euo pipefail
src=$1 build=$2
source "$src/tests/support/install_scratch.sh" "$build"  # fail, $scratch, $root: this build installed
prefix=$(meson introspect "$build" --buildoptions | python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"))')
base=$root$prefix

tools=(certgen certgen-json cluster-config trellis-backend trellisctl)
expected=(lib/systemd/system/trellis-backend.service lib/sysusers.d/trellis.conf)
for t in "${tools[@]}"; do
  expected+=("bin/$t" "share/man/man1/$t.1" "share/bash-completion/completions/$t" "share/zsh/vendor-completions/_$t")
done
for f in "${expected[@]}"; do [[ -s $base/$f ]] || fail "$prefix/$f is not installed"; done
echo "ok: ${#expected[@]} files installed under $prefix"

# Every subcommand the binary lists is in its man page and its completion.
for t in "${tools[@]}"; do
  subs=$("$base/bin/$t" --help | awk '/^Subcommands:/{s=1;next} s&&/^  [a-z]/{print $1} s&&!/^ /{s=0}')
  [[ -n $subs || $t == certgen-json ]] || fail "$t --help lists no subcommand"  # certgen-json has none
  for s in $subs; do
    grep -q -- "$s" "$base/share/man/man1/$t.1" || fail "man page of $t lacks $s"
    grep -q -- "$s" "$base/share/bash-completion/completions/$t" || fail "bash completion of $t lacks $s"
    grep -q -- "$s" "$base/share/zsh/vendor-completions/_$t" || fail "zsh completion of $t lacks $s"
  done
  bash -n "$base/share/bash-completion/completions/$t" || fail "bash completion of $t is not valid bash"
  zsh -n "$base/share/zsh/vendor-completions/_$t" || fail "zsh completion of $t is not valid zsh"
  man -l "$base/share/man/man1/$t.1" 2>/dev/null | grep -q "^NAME" || [[ ! -x $(command -v man) ]] ||
    fail "man cannot render $t.1"
done
echo "ok: man pages and completions list every subcommand of the five tools"

# The generated bash completion completes subcommands and a subcommand's flags.
words=$(bash -c "source '$base/share/bash-completion/completions/cluster-config'
  COMP_WORDS=(cluster-config pro); COMP_CWORD=1; _cluster_config; echo \"\${COMPREPLY[*]}\"
  COMP_WORDS=(cluster-config provision spec.yml --fo); COMP_CWORD=3; _cluster_config; echo \"\${COMPREPLY[*]}\"")
[[ $words == $'provision\n--force --force-new-ca --format' ]] || fail "bash completion of cluster-config gave: $words"  # --format: a global flag
echo "ok: bash completion completes subcommands and their flags"

unit=$base/lib/systemd/system/trellis-backend.service
grep -qx "Type=notify" "$unit" || fail "the unit is not Type=notify"
grep -qx "ExecStart=$prefix/bin/trellis-backend start --config /etc/trellis/backend.yml" "$unit" ||
  fail "the unit does not run the installed binary: $(grep ExecStart "$unit")"
grep -qx "RestartPreventExitStatus=4" "$unit" || fail "the unit restarts a removed member"
grep -qE '^u trellis - ' "$base/lib/sysusers.d/trellis.conf" || fail "no trellis user in sysusers.d"
if command -v systemd-analyze >/dev/null && [[ -d /run/systemd/system ]]; then
  sed "s|$prefix/bin/|$base/bin/|" "$unit" >"$scratch/trellis-backend.service"
  systemd-analyze verify "$scratch/trellis-backend.service" || fail "systemd-analyze verify refused the unit"
fi
echo "ok: the systemd unit and the trellis user"
