#!/usr/bin/env bash
# Builds the Debian package trellis_<version>_<arch>.deb from this tree (docs/install.md, "Debian package"):
# `meson install --destdir --strip` of a build with prefix /usr, plus DEBIAN/control and the maintainer
# scripts, packed by dpkg-deb with root:root ownership.
#
# Usage: scripts/deb.sh [BUILD_DIR] [--out DIR] [--reuse]
#   BUILD_DIR with prefix /usr: packaged as it is (built first if out of date).
#   otherwise: a release build of its own in build-deb/ (-Dtests=false, so GoogleTest is not needed).
#   --reuse: package BUILD_DIR whatever its prefix, without building it again: staged, then moved from its
#            prefix to /usr (the unit and trellis.pc rewritten). What the test uses: no second build, at
#            the price of packaging that build's own binaries (debug info stripped on install, but built
#            with the suite's buildtype, not a release build).
#   --out DIR: where the .deb goes (default: the current directory).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build='' out=$PWD reuse=0
while (($#)); do
  case $1 in
    --out) out=$2; shift 2 ;;
    --reuse) reuse=1; shift ;;
    -h|--help) sed -n '2,13p' "$0" | cut -c3-; exit 0 ;;
    -*) echo "deb.sh: error: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) build=$1; shift ;;
  esac
done
fail() { echo "deb.sh: error: $*" >&2; exit 1; }
for tool in meson dpkg-deb dpkg python3; do command -v "$tool" >/dev/null || fail "$tool is not installed"; done

# The package's runtime dependencies, by their Debian 12 names (dpkg -S of each library the tools and
# libtrellis link, checked by tests/dist/deb_test.sh); etcd-server is the store the backend runs.
depends="etcd-server, libssl3, libbotan-2-19, libyaml-cpp0.7, libre2-9, libcpp-httplib0.11, libevent-core-2.1-7, libevent-openssl-2.1-7, libevent-pthreads-2.1-7, libsystemd0, libstdc++6, libgcc-s1, libc6"
# The tools embed Botan's archive (meson.build says why): Debian names the source of statically linked
# code in Built-Using, so a Botan security update shows which packages to rebuild.
built_using="botan (= $(dpkg-query -W -f='${source:Version}' libbotan-2-dev))"

option() {  # option BUILD NAME: a meson option's value in that build
  meson introspect "$1" --buildoptions |
    python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]==sys.argv[1]))' "$2"
}

if ((reuse)); then
  [[ -n $build && -f $build/build.ninja ]] || fail "--reuse needs a configured BUILD_DIR"
elif [[ -n $build && -f $build/build.ninja && $(option "$build" prefix) == /usr ]]; then
  nice ninja -C "$build" >/dev/null
else
  build=$src/build-deb
  if [[ ! -f $build/build.ninja ]]; then
    meson setup "$build" "$src" --prefix=/usr --buildtype=release -Dtests=false >/dev/null
  fi
  [[ $(option "$build" prefix) == /usr ]] || fail "$build exists with another prefix; remove it"
  nice ninja -C "$build" >/dev/null
fi
build=$(cd "$build" && pwd)
prefix=$(option "$build" prefix)
version=$(meson introspect "$build" --projectinfo | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
arch=$(dpkg --print-architecture)

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root=$stage/root
meson install -C "$build" --no-rebuild --quiet --strip --destdir "$root" >/dev/null
if [[ $prefix != /usr ]]; then  # --reuse of a build for another prefix: move it to /usr
  mkdir -p "$root/usr"
  cp -a "$root$prefix/." "$root/usr/"
  rm -rf "${root:?}$prefix"
  rmdir -p "$(dirname "$root$prefix")" 2>/dev/null || true
  # Only the two text files that name the prefix (binaries carry it in debug info only; never sed those).
  sed -i "s|$prefix/bin/|/usr/bin/|g" "$root/usr/lib/systemd/system/trellis-backend.service"
  sed -i "s|^prefix=$prefix\$|prefix=/usr|" "$root"/usr/lib/*/pkgconfig/trellis.pc
fi
# meson's --strip leaves the static library's debug info (over 100 MB of it); a package needs none.
find "$root" -name '*.a' -exec strip --strip-debug {} +
[[ -x $root/usr/bin/trellis-backend ]] || fail "the install of $build has no /usr/bin/trellis-backend"

mkdir -p "$root/DEBIAN"
cat >"$root/DEBIAN/control" <<EOF
Package: trellis
Version: $version
Architecture: $arch
Maintainer: Trellis maintainers <maintainers@trellis.invalid>
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Depends: $depends
Built-Using: $built_using
Section: admin
Priority: optional
Description: etcd-backed, mutually authenticated backend cluster toolkit
 certgen, cluster-config, trellis-backend and trellisctl: provision a cluster's
 certificates and configuration from one spec, run its nodes (an embedded etcd
 under systemd, Type=notify) and operate it; plus libtrellis and its headers.
EOF
# The trellis system user (sysusers.d) and the unit, on configure; a scratch-root install skips both.
cat >"$root/DEBIAN/postinst" <<'EOF'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
    if command -v systemd-sysusers >/dev/null 2>&1; then systemd-sysusers trellis.conf; fi
    if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
fi
EOF
cat >"$root/DEBIAN/postrm" <<'EOF'
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
EOF
chmod 0755 "$root/DEBIAN/postinst" "$root/DEBIAN/postrm"
echo "activate-noawait ldconfig" >"$root/DEBIAN/triggers"
mkdir -p "$out"
deb=$out/trellis_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
