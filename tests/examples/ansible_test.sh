#!/usr/bin/env bash
# examples/ansible/site.yml run for real with Debian's ansible-core against three "hosts" that are this
# machine (connection: local; each node its own folder and loopback address, 127.0.0.81-83, standard
# ports; trellis_service=process since a test machine has no systemd to start units with):
#   1. apply: provision, copy, start, healthy (trellisctl cluster health through all three);
#   2. again: every host reports changed=0;
#   3. a spec change in check mode: reported as a change, nothing written on the controller or a node;
#   4. rotate-ca.yml: the client CA rotated through trust, reissue and finish (rollouts included), the
#      cluster healthy after each stage, and the old CA's admin certificate refused at the end.
# Usage: ansible_test.sh SOURCE_ROOT BUILD_ROOT
set -euo pipefail
src=$1 build=$2
scratch=$(mktemp -d /tmp/trellis-ansible-XXXXXX)
fail() { echo "FAIL: $*" >&2; for h in 1 2 3; do tail -5 "$scratch/hosts/backend-$h/state/backend.log" 2>/dev/null >&2 || true; done; exit 1; }
cleanup() {
  for pid in "$scratch"/hosts/*/state/backend.pid; do [[ -f $pid ]] && kill "$(cat "$pid")" 2>/dev/null || true; done
  for pid in "$scratch"/hosts/*/state/backend.pid; do
    [[ -f $pid ]] || continue
    for _ in $(seq 50); do kill -0 "$(cat "$pid")" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$(cat "$pid")" 2>/dev/null || true
  done
  rm -rf "$scratch"
}
trap cleanup EXIT

mkdir -p "$scratch/bin" "$scratch/tmp"
for t in cluster-config/cluster-config backend/trellis-backend ctl/trellisctl; do ln -s "$build/$t" "$scratch/bin/"; done
cat > "$scratch/cluster.yml" <<YAML
cluster: {name: ansible-test, token: trellis-ansible-test}
nodes:
  - {name: backend-1, address: 127.0.0.81}
  - {name: backend-2, address: 127.0.0.82}
  - {name: backend-3, address: 127.0.0.83}
clients:
  - {name: admin}
YAML
{
  echo "[trellis_nodes]"
  for h in 1 2 3; do
    echo "backend-$h ansible_connection=local ansible_python_interpreter=/usr/bin/python3 trellis_address=127.0.0.8$h" \
         "trellis_etc=$scratch/hosts/backend-$h/etc trellis_state=$scratch/hosts/backend-$h/state"
  done
} > "$scratch/inventory.ini"
export ANSIBLE_NOCOLOR=1 ANSIBLE_LOCAL_TEMP=$scratch/tmp ANSIBLE_REMOTE_TEMP=$scratch/tmp ANSIBLE_RETRY_FILES_ENABLED=0 \
  ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3 ANSIBLE_LOCALHOST_WARNING=0 ANSIBLE_INVENTORY_UNPARSED_WARNING=0
play() {
  timeout 300 /usr/bin/ansible-playbook -i "$scratch/inventory.ini" "$src/examples/ansible/site.yml" \
    -e "trellis_bin=$scratch/bin trellis_spec=$scratch/cluster.yml trellis_out=$scratch/out trellis_paths=''" \
    -e trellis_service=process -e trellis_health_retries=45 -e trellis_owner=nobody -e trellis_group=nogroup "$@"
}
# "changed=N" of one host in the PLAY RECAP.
changed() { awk -v h="$1" '$1 == h && /ok=/ { for (i = 1; i <= NF; i++) if ($i ~ /^changed=/) { sub("changed=", "", $i); print $i } }' "$2"; }

play > "$scratch/run1.log" 2>&1 || { cat "$scratch/run1.log" >&2; fail "the first run failed"; }
for h in 1 2 3; do
  [[ $(changed "backend-$h" "$scratch/run1.log") -ge 1 ]] || fail "backend-$h: the first run changed nothing"
  [[ $(stat -c %a "$scratch/hosts/backend-$h/etc/backend-$h-key.pem") == 600 ]] || fail "backend-$h: key not 0600 on the node"
  [[ $(stat -c %U:%G "$scratch/hosts/backend-$h/etc/backend-$h-key.pem") == nobody:nogroup ]] ||
    fail "backend-$h: key not owned by trellis_owner on the node"
  [[ ! -e $scratch/hosts/backend-$h/etc/ca-key.pem ]] || fail "backend-$h: a CA key was shipped to the node"
done
grep -q "3 of 3 members healthy\|healthy" "$scratch/run1.log" || fail "no health shown"
"$scratch/bin/trellisctl" --url https://127.0.0.81:8080,https://127.0.0.82:8080,https://127.0.0.83:8080 \
  --trusted-ca-file "$scratch/out/clients/admin/ca.pem" --cert-file "$scratch/out/clients/admin/admin.pem" \
  --key-file "$scratch/out/clients/admin/admin-key.pem" cluster health || fail "the cluster is not healthy after the run"
echo "ok: first run provisioned, shipped and started three healthy nodes"

play > "$scratch/run2.log" 2>&1 || { cat "$scratch/run2.log" >&2; fail "the second run failed"; }
for h in localhost backend-1 backend-2 backend-3; do
  [[ $(changed "$h" "$scratch/run2.log") == 0 ]] || { grep -B2 "changed:" "$scratch/run2.log" >&2; fail "$h: the second run changed something"; }
done
echo "ok: second run changed=0 on every host"

printf '  - {name: monitor, role: reader}\n' >> "$scratch/cluster.yml"
before=$(find "$scratch/out" "$scratch/hosts" -path '*/state' -prune -o -type f -printf '%p %T@\n' | sort | sha256sum)
play --check > "$scratch/check.log" 2>&1 || { cat "$scratch/check.log" >&2; fail "the check-mode run failed"; }
[[ $(changed localhost "$scratch/check.log") == 1 ]] || { cat "$scratch/check.log" >&2; fail "check mode did not report the pending provision"; }
after=$(find "$scratch/out" "$scratch/hosts" -path '*/state' -prune -o -type f -printf '%p %T@\n' | sort | sha256sum)
[[ $before == "$after" ]] || fail "check mode wrote files"
[[ ! -e $scratch/out/clients/monitor ]] || fail "check mode issued the new client"
echo "ok: check mode reported the pending change and wrote nothing"

sed -i '/name: monitor/d' "$scratch/cluster.yml"
cp "$scratch/out/clients/admin/admin.pem" "$scratch/old-admin.pem"
cp "$scratch/out/clients/admin/admin-key.pem" "$scratch/old-admin-key.pem"
ctl() {
  "$scratch/bin/trellisctl" --url https://127.0.0.81:8080,https://127.0.0.82:8080,https://127.0.0.83:8080 \
    --trusted-ca-file "$scratch/out/clients/admin/ca.pem" --cert-file "$1" --key-file "$2" --timeout 10s cluster health
}
rotate() {
  timeout 400 /usr/bin/ansible-playbook -i "$scratch/inventory.ini" "$src/examples/ansible/rotate-ca.yml" \
    -e "trellis_bin=$scratch/bin trellis_spec=$scratch/cluster.yml trellis_out=$scratch/out trellis_paths=''" \
    -e rotate_ca=client -e "stage=$1" > "$scratch/rotate-$1.log" 2>&1 || { cat "$scratch/rotate-$1.log" >&2; fail "rotate-ca.yml stage $1 failed"; }
  ctl "$scratch/out/clients/admin/admin.pem" "$scratch/out/clients/admin/admin-key.pem" > /dev/null \
    || fail "the cluster is not healthy after stage $1"
}
for stage in trust reissue finish; do rotate "$stage"; echo "ok: rotate-ca.yml stage $stage, cluster healthy"; done
grep -q "client CA: .*finish" "$scratch/rotate-finish.log" || grep -qi "finish" "$scratch/rotate-finish.log" || fail "--status does not show the finish"
if ctl "$scratch/old-admin.pem" "$scratch/old-admin-key.pem" > "$scratch/old.log" 2>&1; then
  fail "the old CA's admin certificate is still accepted after finish"
fi
echo "ok: after finish the old CA's admin certificate is refused ($(head -c 160 "$scratch/old.log"))"
