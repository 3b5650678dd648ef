#!/usr/bin/env bash
# Runs libFuzzer targets from a -Dfuzz=true build (scripts/sanitize.sh makes one),
# seeded from tests/data. Short runs are part of the test suite; long campaigns:
#   bash scripts/fuzz.sh --seconds 3600 all          # every target for an hour each
#   bash scripts/fuzz.sh --runs 10000000 pem         # ten million executions of one target
#   bash scripts/fuzz.sh --corpus DIR --runs 5000000 pem   # go on from an earlier run's corpus
# --timeout N (default 10 s) is libFuzzer's per-input limit: raise it for a campaign that runs
# at low priority beside other work, where a starved process is not a hang.
# New interesting inputs go to a scratch corpus (printed), never into tests/data; with --corpus they go
# to DIR, which is kept, so a campaign can stop and resume where it was (one target per run then).
# A crash leaves its input in build-san/fuzz-artifacts/ and the script fails.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build-san" seconds=8 runs="" timeout=10 keep=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --timeout) timeout="$2"; shift 2 ;;
    --corpus) keep="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) break ;;
  esac
done
[[ $# -ge 1 ]] || { echo "usage: fuzz.sh [--build DIR] [--seconds N | --runs N] [--timeout N] [--corpus DIR TARGET] TARGET... | all" >&2; exit 2; }
[[ -z $keep || ($# -eq 1 && $1 != all) ]] || { echo "fuzz.sh: --corpus DIR takes exactly one target" >&2; exit 2; }
[[ -z $keep || -d $keep ]] || { echo "fuzz.sh: --corpus $keep is not a directory" >&2; exit 2; }
data="$root/tests/data"
seeds() {  # the seed files of one target (globs that match nothing are dropped)
  shopt -s nullglob globstar
  echo "$data"/fuzz/regressions/"$1"/*  # inputs that once failed: replayed first, every run
  case "$1" in
    csr_json) echo "$data"/certgen/print-defaults-csr.json "$data"/fuzz/csr_json/* ;;
    ca_config) echo "$data"/certgen/print-defaults-config.json "$data"/cluster-config/guide/ca-config/*.json ;;
    strict_json) echo "$data"/**/*.json ;;
    spec_yaml) echo "$data"/cluster-config/*/spec.yml ;;
    backend_yml) echo "$data"/cluster-config/*/expected/*/backend.yml ;;
    cli_yml) echo "$data"/fuzz/cli_yml/* ;;
    pem) echo "$data"/ctl/tls/*.pem "$data"/fuzz/pem/* ;;
    etcd_gateway) echo "$data"/fuzz/etcd_gateway/* ;;
    api_answers) echo "$data"/api/*.json "$data"/api/sensu/*.json ;;
    certgen_json) echo "$data"/fuzz/certgen_json/* ;;
    http_head) echo "$data"/fuzz/http_head/* ;;
    *) echo "fuzz.sh: unknown target $1" >&2; return 2 ;;
  esac
}
targets=("$@")
[[ ${targets[0]} == all ]] && targets=(csr_json ca_config strict_json spec_yaml backend_yml cli_yml pem etcd_gateway api_answers certgen_json http_head)
status=0
for t in "${targets[@]}"; do
  exe="$build/tests/fuzz/fuzz-${t//_/-}"
  [[ -x $exe ]] || { echo "fuzz.sh: $exe is not built (scripts/sanitize.sh builds it)"; exit 2; }
  corpus="${keep:-$(mktemp -d "${TMPDIR:-/tmp}/trellis-fuzz-$t.XXXXXX")}"
  for s in $(seeds "$t"); do cp "$s" "$corpus/"; done
  log="$corpus.log"; [[ -z $keep ]] || log="${corpus%/}.$(date +%Y%m%dT%H%M%S).log"  # never over an earlier run's
  mkdir -p "$build/fuzz-artifacts"
  limit=(-max_total_time="$seconds"); [[ -n $runs ]] && limit=(-runs="$runs")
  echo "==> $t: ${limit[*]}, $(ls "$corpus" | wc -l) inputs, corpus $corpus"
  if ! "$exe" "${limit[@]}" -timeout="$timeout" -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
      -artifact_prefix="$build/fuzz-artifacts/$t-" "$corpus" 2>"$log"; then
    tail -40 "$log"; echo "fuzz.sh: $t FAILED (input saved under $build/fuzz-artifacts/)"; status=1
  else
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$log" | tr '\n' ' '; echo
    [[ -n $keep ]] || rm -rf "$corpus" "$log"
  fi
done
exit $status
