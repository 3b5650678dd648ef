#!/usr/bin/env bash
# Benchmark (not a test): cluster-config provision side by side with the guide's
# cfssl + cfssljson script (Debian's cfssl) for the guide's cluster (CA + 3 peers
# + client; ca: shared, like the guide), RSA-2048 and ECDSA P-256; then 1000
# ECDSA agent certificates in one provision run, in certificates per second.
# Exits 1 if cluster-config is not faster than cfssl.
#   bash bench/provision.sh [BUILD_DIR]        (BENCH_RUNS=N rounds, default 9)
set -euo pipefail
source "$(dirname "$0")/side-by-side.sh"
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
runs=${BENCH_RUNS:-9}
cc=$build/cluster-config/cluster-config
[[ -x $cc ]] || { echo "missing $cc: build first (ninja -C $build cluster-config/cluster-config)" >&2; exit 1; }
command -v cfssl >/dev/null && command -v cfssljson >/dev/null || { echo "cfssl/cfssljson not installed" >&2; exit 1; }
work=$(mktemp -d)
guide=$root/tests/data/certgen/guide-cfssl.sh
# A synced write (cluster-config: temp file, rename, directory sync) costs more than an
# unsynced one (cfssljson) on a busy disk: report the disk and tmpfs, where syncs are free.
places=("disk:$work")
[[ -d /dev/shm && -w /dev/shm ]] && places+=("tmpfs:$(mktemp -d /dev/shm/trellis-bench-XXXXXX)")
cleanup() { rm -rf "$work"; for p in "${places[@]}"; do [[ ${p%%:*} == tmpfs ]] && rm -rf "${p#*:}"; done; }
trap cleanup EXIT

spec() {  # $1: key yaml, $2: extra clients yaml
  cat <<SPEC
cluster: {name: sensu, token: sensu}
ca: shared
pki:
  ca: {key: $1, subject: {cn: CA}}
  leaf: {key: $1}
nodes:
  - {name: backend-1, address: 10.0.0.1}
  - {name: backend-2, address: 10.0.0.2}
  - {name: backend-3, address: 10.0.0.3}
clients:
  - name: client
$2
SPEC
}

echo "the guide's cluster (CA + 3 peers + client), $runs alternating rounds; median ms (wall / cpu = user+sys)"
printf '%-9s %-6s %24s %18s %10s\n' variant place "cluster-config wall/cpu" "cfssl wall/cpu" "ratio"
status=0
for variant in rsa2048 ecdsa256; do
  key='{algo: rsa, size: 2048}' json='"algo":"rsa","size":2048'
  [[ $variant == ecdsa256 ]] && key='{algo: ecdsa, size: 256}' json='"algo":"ecdsa","size":256'
  spec "$key" "" > "$work/$variant.yml"
  echo "'$cc' provision '$work/$variant.yml' --out . > /dev/null" > "$work/cc-$variant.sh"
  sed -e "s/\"algo\":\"rsa\",\"size\":2048/$json/g" "$guide" > "$work/cfssl-$variant.sh"
  for entry in "${places[@]}"; do
    place=${entry%%:*} dir=${entry#*:}
    compare_row "$variant" "$place" "$dir" "$runs" \
      cluster-config "$work/cc-$variant.sh" cfssl "$work/cfssl-$variant.sh" || status=1
  done
done
echo "ratio = cfssl wall / cluster-config wall (above 1: cluster-config is faster)"

# 1000 agents + the cluster above: 1004 leaf certificates, ECDSA P-256 CA and leaves.
spec '{algo: ecdsa, size: 256}' '  - {name: agent, count: 1000}' > "$work/agents.yml"
echo "'$cc' provision '$work/agents.yml' --out . > /dev/null" > "$work/agents.sh"
echo
echo "1000 ECDSA agent certs (+ CA, 3 peers, client) in one provision run, $runs rounds; median"
for entry in "${places[@]}"; do
  place=${entry%%:*} dir=${entry#*:}
  read -r _ wall cpu < <(python3 "$root/bench/interleave.py" "$runs" "$dir" "agents=$work/agents.sh")
  python3 -c 'import sys; w=float(sys.argv[1]); print("%-6s %8.1f ms wall %8.1f ms cpu  %7.0f certs/s (wall)  %7.0f certs/s (cpu)" % (sys.argv[3], w, float(sys.argv[2]), 1004/w*1000, 1004/float(sys.argv[2])*1000))' "$wall" "$cpu" "$place"
done
echo "target: above 5,000 certs/s on 2 cores"
exit $status
