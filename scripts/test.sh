#!/usr/bin/env bash
# Sets up, builds and runs the whole test suite (unit, golden, interop with
# Debian's cfssl/openssl/botan, and real etcd clusters on loopback).
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
# Tests that start etcd clusters are heavy; run a couple at a time on 2 cores.
meson test -C build --print-errorlogs --num-processes "${TRELLIS_TEST_JOBS:-2}" "$@"
