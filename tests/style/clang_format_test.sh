#!/usr/bin/env bash
# Fails when a tracked .cpp/.hpp differs from what clang-format (with the repo's .clang-format)
# makes of it, naming each file and the command that fixes it. Skips (exit 77) without clang-format.
# Usage: clang_format_test.sh SOURCE_ROOT
set -uo pipefail
cd "$1" || exit 1
fmt=${CLANG_FORMAT:-clang-format}
if ! command -v "$fmt" >/dev/null; then
  echo "SKIP: $fmt not found (apt-get install clang-format; scripts/setup.sh lists it)"
  exit 77
fi
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files -- '*.cpp' '*.hpp')
else  # an unpacked tarball: every source file outside build directories
  mapfile -t files < <(find . -path './build*' -prune -o \( -name '*.cpp' -o -name '*.hpp' \) -print | sort)
fi
[[ ${#files[@]} -gt 0 ]] || { echo "FAIL: no .cpp/.hpp files found under $1"; exit 1; }
bad=()
for f in "${files[@]}"; do
  [[ -f $f ]] || continue  # deleted in the worktree, not yet committed
  timeout 30 "$fmt" --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [[ ${#bad[@]} -gt 0 ]]; then
  echo "FAIL: ${#bad[@]} of ${#files[@]} files differ from clang-format:"
  printf '  %s\n' "${bad[@]}"
  echo "fix: clang-format -i ${bad[*]}"
  exit 1
fi
echo "ok: ${#files[@]} files match clang-format ($("$fmt" --version))"
