#!/usr/bin/env bash
# The sanitizer and fuzz pass (issue 9): builds the tree with clang, AddressSanitizer,
# UndefinedBehaviorSanitizer (any report is fatal) and libFuzzer coverage into
# build-san/, then runs the unit suite and a short run of every fuzz target there.
# .ci/run runs it after the main suite; by hand:
#   bash scripts/sanitize.sh                   # unit + fuzz suites
#   bash scripts/sanitize.sh --suite integration   # any other meson test arguments
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build-san
suites=(--suite unit --suite fuzz)
[[ $# -gt 0 ]] && suites=("$@")
if [[ ! -f $dir/build.ninja ]]; then
  echo "==> configuring $dir (clang, -fsanitize=address,undefined, libFuzzer)"
  CC=clang CXX=clang++ meson setup "$dir" -Db_sanitize=address,undefined -Dfuzz=true >/dev/null
fi
# -O1 with line tables only: what ASan's own docs advise, and a quarter less compile time than -O2 -g
# on this tree (the sanitized build is most of a cold CI run); reports still name file and line.
# clang links the sanitizer runtimes into executables only, so libtrellis.so has to leave their
# symbols undefined (the integration suite's installed-library and deb-package tests need the .so).
# Set on every run, so a build-san/ configured by an older version of this script gets them too.
meson configure "$dir" -Db_lundef=false -Doptimization=1 -Ddebug=false \
  -Dcpp_args='-gline-tables-only -fsanitize=fuzzer-no-link -fno-sanitize-recover=all' >/dev/null
# Build only what the chosen suites run: the whole tree under ASan costs CI minutes for nothing.
# Regenerate first, so a meson.build changed since the last run (a new fuzz target) is in the list.
ninja -C "$dir" build.ninja >/dev/null
mapfile -t targets < <(python3 - "$dir" "${suites[@]}" <<'PY'
import json, os, subprocess, sys
d = sys.argv[1]
wanted = {a for a in sys.argv[2:] if not a.startswith('-')}
intro = lambda what: json.loads(subprocess.check_output(['meson', 'introspect', d, what]))
files = {t['id']: t['filename'] for t in intro('--targets')}
out = set()
for t in intro('--tests'):
    if wanted and not wanted & set(t['suite']) and not wanted & {s.split(':')[-1] for s in t['suite']}:
        continue
    for dep in t.get('depends', []):
        out.update(files.get(dep, []))
    if t['cmd'][0].startswith(os.path.abspath(d)):
        out.add(t['cmd'][0])
for f in sorted(out):
    print(os.path.relpath(f, d))
PY
)
echo "==> building ${#targets[@]} targets in $dir"
nice ninja -C "$dir" "${targets[@]}"
# Every sanitized process writes its report to a file here, not to stderr: the tests start tools and
# backends whose stderr lands in scratch logs and whose exit status after SIGTERM no test reads, so a
# leak at a backend's shutdown would otherwise pass unseen. Any file here fails the run.
reports=$PWD/$dir/sanitizer-reports
rm -rf "$reports" && mkdir -p "$reports"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:log_path=$reports/asan
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$reports/ubsan
rc=0
meson test -C "$dir" --no-rebuild --print-errorlogs --num-processes "${TRELLIS_TEST_JOBS:-2}" "${suites[@]}" || rc=$?
if found=$(find "$reports" -type f | sort) && [[ -n $found ]]; then
  for f in $found; do echo "==> sanitizer report $f"; head -60 "$f"; done
  echo "==> $(wc -l <<<"$found") sanitizer report(s) in $reports" >&2
  exit 1
fi
exit "$rc"
