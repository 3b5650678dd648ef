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

# Agents + the cluster above, ECDSA P-256 CA and leaves, beside the filesystem's own cost: bare-tree makes
# the same folders and files (sizes, modes) with mkdir/open/write/close and one syncfs (issue 14, goal 2).
agents=${BENCH_AGENTS:-5000}
bare=$build/bench/bare-tree
[[ -x $bare ]] || { echo "missing $bare: build first (ninja -C $build bench/bare-tree)" >&2; exit 1; }
spec '{algo: ecdsa, size: 256}' "  - {name: agent, count: $agents}" > "$work/agents.yml"
"$cc" provision "$work/agents.yml" --out "$work/reference" > /dev/null
echo "'$cc' provision '$work/agents.yml' --out . > /dev/null" > "$work/agents.sh"
echo "'$bare' '$work/reference' ." > "$work/bare.sh"
certs=$((agents + 4))
echo
echo "$agents ECDSA agent certs (+ CA, 3 peers, client) in one provision run, $runs alternating rounds; median"
printf '%-6s %22s %22s %14s %10s\n' place "cluster-config wall/cpu" "bare-tree wall/cpu" "certs/s (wall)" "x bare"
for entry in "${places[@]}"; do
  place=${entry%%:*} dir=${entry#*:}
  python3 "$root/bench/interleave.py" "$runs" "$dir" "agents=$work/agents.sh" "bare=$work/bare.sh" > "$work/times"
  read -r _ wall cpu < <(grep '^agents ' "$work/times")
  read -r _ bwall bcpu < <(grep '^bare ' "$work/times")
  python3 -c 'import sys; w,c,bw,bc,n=map(float,sys.argv[1:6]); print("%-6s %12.1f / %7.1f %12.1f / %7.1f %14.0f %9.2fx" % (sys.argv[6], w, c, bw, bc, n/w*1000, w/bw))' \
    "$wall" "$cpu" "$bwall" "$bcpu" "$certs" "$place"
done
echo "targets (issue 14): 12,000 certs/s on tmpfs; on disk at most 1.3x bare-tree"
exit $status
