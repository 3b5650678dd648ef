#!/usr/bin/env bash
# Installs what Trellis needs from Debian 12 packages and builds it into build/.
# Safe to run again: apt-get and meson only do what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  # build
  g++ meson ninja-build pkg-config python3
  # rebuilds reuse objects (meson picks ccache up by itself); clang builds the ASan/UBSan + libFuzzer pass
  ccache clang
  # libraries
  libssl-dev libbotan-2-dev libyaml-cpp-dev nlohmann-json3-dev libcli11-dev
  libcpp-httplib-dev libkainjow-mustache-dev libgtest-dev libgmock-dev
  libre2-dev  # name_whitelist with Go's (RE2) regexp semantics
  libsystemd-dev  # sd_notify: trellis-backend.service is Type=notify
  libevent-dev  # the API server's event loop: non-blocking TLS handshakes, deadlines (docs/backend.md)
  # the real peers the tests and the cluster run against
  etcd-server etcd-client golang-cfssl openssl botan curl procps
  sslscan  # the TLS policy test scans every port (no CBC, nothing below TLS 1.2)
  python3-prometheus-client  # the /metrics test parses the document with Prometheus' own Python parser
  # examples/haproxy.cfg is checked with `haproxy -c` (the service is not started by the tests)
  haproxy
  # examples/ansible/site.yml is run by the example-ansible test
  ansible-core
  # render --compose's file is checked with `docker-compose config` (no daemon)
  docker-compose
  # shells the completion scripts are checked with; the formatter the suite checks with
  bash zsh clang-format
)

if [[ ${EUID} -eq 0 ]]; then
  echo "==> apt-get update && apt-get install (${#packages[@]} packages)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
else
  echo "==> not root: skipping apt-get; make sure these are installed: ${packages[*]}"
fi

if [[ ! -f build/build.ninja ]]; then
  meson setup build --buildtype=debugoptimized >/dev/null
fi
echo "==> building with ninja"
ninja -C build
