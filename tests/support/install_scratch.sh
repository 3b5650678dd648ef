# Sourced by the install tests (tests/library, tests/dist): `fail`, and this build installed with
# `meson install --destdir` into a scratch root that is removed on exit. Sets $scratch and $root.
# Usage: source install_scratch.sh BUILD_ROOT
fail() { echo "FAIL: $*" >&2; exit 1; }
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
root=$scratch/root
timeout 120 meson install -C "$1" --no-rebuild --quiet --destdir "$root" >/dev/null ||
  fail "meson install --destdir failed"
