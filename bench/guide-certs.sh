#!/usr/bin/env bash
# Benchmark (not a test): the guide's five certificates (CA, 3 peers, client)
# made with certgen | certgen-json and with Debian's cfssl | cfssljson, side by
# side, for RSA-2048 (the guide) and ECDSA P-256. Prints ms per full run and the
# ratio; exits 1 if certgen is not faster.
#   bash bench/guide-certs.sh [BUILD_DIR]      (BENCH_RUNS=N to change the rounds, default 15)
set -euo pipefail
source "$(dirname "$0")/side-by-side.sh"
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
runs=${BENCH_RUNS:-15}
for tool in "$build/certgen/certgen" "$build/certgen/certgen-json"; do
  [[ -x $tool ]] || { echo "missing $tool: build first (ninja -C $build)" >&2; exit 1; }
done
command -v cfssl >/dev/null && command -v cfssljson >/dev/null || { echo "cfssl/cfssljson not installed (apt-get install golang-cfssl)" >&2; exit 1; }
work=$(mktemp -d)
guide=$root/tests/data/certgen/guide-cfssl.sh
path="$build/certgen:$PATH"

# Where the files go matters: certgen-json makes every file durable (temp file,
# sync, rename, directory sync) and cfssljson does not, so on a busy disk the
# sync dominates. Both places are reported: a disk directory (what users get)
# and tmpfs (where syncing is free, so only the tools' own work is compared).
places=("disk:$work")
[[ -d /dev/shm && -w /dev/shm ]] && places+=("tmpfs:$(mktemp -d /dev/shm/trellis-bench-XXXXXX)")
cleanup() { rm -rf "$work"; for p in "${places[@]}"; do [[ ${p%%:*} == tmpfs ]] && rm -rf "${p#*:}"; done; }
trap cleanup EXIT

echo "the guide's certificates (CA + 3 peers + client), $runs alternating rounds; median ms per full run (wall / cpu = user+sys)"
printf '%-9s %-6s %24s %18s %10s\n' variant place "certgen wall/cpu" "cfssl wall/cpu" "ratio"
status=0
for variant in rsa2048 ecdsa256; do
  key='"algo":"rsa","size":2048'
  [[ $variant == ecdsa256 ]] && key='"algo":"ecdsa","size":256'
  sed -e "s/\"algo\":\"rsa\",\"size\":2048/$key/g" "$guide" > "$work/cfssl-$variant.sh"
  sed -e 's/cfssljson/certgen-json/g; s/cfssl gencert/certgen gencert/g' "$work/cfssl-$variant.sh" > "$work/certgen-$variant.sh"
  # Both must actually work before their time means anything.
  for tool in cfssl certgen; do
    mkdir -p "$work/check-$tool-$variant"
    (cd "$work/check-$tool-$variant" && PATH=$path bash -euo pipefail "$work/$tool-$variant.sh" 2>/dev/null) \
      || { echo "$tool failed the $variant guide run" >&2; exit 1; }
    rm -rf "$work/check-$tool-$variant"
  done
  for entry in "${places[@]}"; do
    place=${entry%%:*} dir=${entry#*:}
    PATH=$path compare_row "$variant" "$place" "$dir" "$runs" \
      certgen "$work/certgen-$variant.sh" cfssl "$work/cfssl-$variant.sh" || status=1
  done
done
echo "ratio = cfssl wall time / certgen wall time (above 1: certgen is faster)"
exit $status
