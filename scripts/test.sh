#!/usr/bin/env bash
# Sets up, builds and runs the whole test suite: unit, golden, interop with
# Debian's cfssl/openssl/botan, real etcd clusters on loopback — then a second
# pass: the unit suite under ASan/UBSan and a short run of every fuzz target
# (scripts/sanitize.sh, about 7 minutes). TRELLIS_SANITIZE=0 skips it.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
# Tests that start etcd clusters are heavy; run a couple at a time on 2 cores.
meson test -C build --print-errorlogs --num-processes "${TRELLIS_TEST_JOBS:-2}" "$@"
rc=$?
if [[ ${TRELLIS_SANITIZE:-1} != 0 && $# -eq 0 ]]; then
  bash scripts/sanitize.sh || rc=1
fi
exit $rc
