#!/usr/bin/env bash
# The README's main job: set up and build, provision examples/loopback-3.yml
# (CA, peer CA, three nodes, an admin client), start three trellis-backend
# nodes on 127.0.0.11-13 (each runs its own supervised etcd), wait until the
# cluster is healthy, show `trellisctl cluster health`, and leave it running.
#
#   bash scripts/demo.sh          # bring the cluster up (stops an earlier demo first)
#   bash scripts/demo.sh --stop   # stop it again
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
demo=$root/out/demo
pids=$demo/pids

stop() {
  [[ -f $pids ]] || return 0
  echo "==> stopping the demo cluster"
  while read -r pid; do kill -TERM "$pid" 2>/dev/null || true; done <"$pids"
  # Each backend stops its etcd (SIGKILL after its stop timeout); wait at most 30 s for all.
  for _ in $(seq 150); do
    alive=0
    while read -r pid; do kill -0 "$pid" 2>/dev/null && alive=1; done <"$pids"
    ((alive)) || break
    sleep 0.2
  done
  rm -f "$pids"
}

if [[ ${1:-} == --stop ]]; then
  stop
  exit 0
fi

bash scripts/setup.sh
stop
bin=$root/build
rm -rf "$demo/state" "$demo/logs"
mkdir -p "$demo/state" "$demo/logs"

echo
echo "==> cluster-config provision examples/loopback-3.yml --out out/demo/cluster"
"$bin/cluster-config/cluster-config" provision examples/loopback-3.yml --out "$demo/cluster" | tail -n 1

echo "==> starting trellis-backend on 127.0.0.11, .12 and .13 (logs in out/demo/logs/)"
for n in 1 2 3; do
  # setsid: the backends outlive this script, as the README promises.
  setsid "$bin/backend/trellis-backend" start \
    --config "$demo/cluster/backend-$n/backend.yml" \
    --state-dir "$demo/state/backend-$n" \
    --log-level info \
    >"$demo/logs/backend-$n.log" 2>&1 </dev/null &
  echo $! >>"$pids"
done

admin=$demo/cluster/clients/admin
ctl() {
  "$bin/ctl/trellisctl" --url https://127.0.0.11:8080,https://127.0.0.12:8080,https://127.0.0.13:8080 \
    --trusted-ca-file "$admin/ca.pem" --cert-file "$admin/admin.pem" --key-file "$admin/admin-key.pem" "$@"
}

echo "==> waiting for the cluster to be healthy (at most 60 s)"
healthy=0
for _ in $(seq 120); do
  if ctl --timeout 2 cluster health >/dev/null 2>&1; then healthy=1; break; fi
  while read -r pid; do
    kill -0 "$pid" 2>/dev/null || { echo "a backend exited; its log:" >&2; tail -n 20 "$demo"/logs/*.log >&2; stop; exit 1; }
  done <"$pids"
  sleep 0.5
done

echo
echo "\$ trellisctl cluster health"
ctl cluster health || true
echo
echo "\$ trellisctl cluster member-list"
ctl cluster member-list || true
echo
if ((healthy)); then
  echo "The cluster is running: three backends (pids $(paste -sd' ' "$pids")), each with its own etcd."
  echo "Admin client files: out/demo/cluster/clients/admin/. Stop it with: bash scripts/demo.sh --stop"
else
  echo "The cluster did not become healthy within 60 s; logs are in out/demo/logs/." >&2
  stop
  exit 1
fi
