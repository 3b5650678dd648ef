#!/usr/bin/env bash
# Sets up, builds and runs the whole test suite: unit, golden, interop with
# Debian's cfssl/openssl/botan, real etcd clusters on loopback. TRELLIS_SANITIZE=1
# adds a second pass: the unit suite under ASan/UBSan and a short run of every
# fuzz target (scripts/sanitize.sh). It is off by default until the clang-14
# build of the whole tree is proven in CI.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
# Tests that start etcd clusters are heavy; run a couple at a time on 2 cores.
meson test -C build --print-errorlogs --num-processes "${TRELLIS_TEST_JOBS:-2}" "$@"
rc=$?
if [[ ${TRELLIS_SANITIZE:-0} != 0 && $# -eq 0 ]]; then
  bash scripts/sanitize.sh || rc=1
fi
exit $rc
