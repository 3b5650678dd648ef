#!/usr/bin/env bash
# The Debian package (issue 13 item 3): scripts/deb.sh --reuse packs this build (no second build: see
# docs/install.md for why), then: dpkg-deb -c lists every expected file, dpkg-deb -f gives the control
# fields, every library a packaged binary links comes from a package in Depends, dpkg unpacks it into a
# scratch root, and the installed cluster-config provisions examples/loopback-3.yml and lints it clean.
# Nothing is installed on this machine and no service is started.
# Usage: deb_test.sh SOURCE_ROOT BUILD_ROOT
set -euo pipefail
src=$1 build=$2
fail() { echo "FAIL: $*" >&2; exit 1; }
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

deb=$(timeout 240 "$src/scripts/deb.sh" "$build" --reuse --out "$scratch") || fail "scripts/deb.sh failed"
version=$(meson introspect "$build" --projectinfo | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
arch=$(dpkg --print-architecture)
[[ $deb == "$scratch/trellis_${version}_${arch}.deb" && -s $deb ]] || fail "no trellis_${version}_${arch}.deb: $deb"
echo "ok: $(basename "$deb") ($(($(stat -c %s "$deb") / 1024)) KiB)"

# Every file, where Debian wants it, owned by root.
listing=$(dpkg-deb -c "$deb")
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
expected=(usr/lib/systemd/system/trellis-backend.service usr/lib/sysusers.d/trellis.conf
  usr/include/trellis/trellis.hpp usr/include/trellis/core/files.hpp usr/include/trellis/core/error.hpp
  "usr/lib/$multiarch/libtrellis.so.0" "usr/lib/$multiarch/libtrellis.so" "usr/lib/$multiarch/libtrellis.a"
  "usr/lib/$multiarch/pkgconfig/trellis.pc")
for t in certgen certgen-json cluster-config trellis-backend trellisctl; do
  expected+=("usr/bin/$t" "usr/share/man/man1/$t.1" "usr/share/bash-completion/completions/$t"
    "usr/share/zsh/vendor-completions/_$t")
done
for f in "${expected[@]}"; do
  grep -qE " \./$f( -> .*)?\$" <<<"$listing" || fail "the package lacks /$f"
done
! grep -v ' root/root ' <<<"$listing" | grep -q . || fail "files not owned by root: $(grep -v ' root/root ' <<<"$listing")"
! grep -q ' \./usr/local/' <<<"$listing" || fail "the package installs into /usr/local"
echo "ok: ${#expected[@]} expected files in the package"

# The control fields.
field() { dpkg-deb -f "$deb" "$1"; }
[[ $(field Package) == trellis ]] || fail "Package: $(field Package)"
[[ $(field Version) == "$version" ]] || fail "Version: $(field Version), not $version"
[[ $(field Architecture) == "$arch" ]] || fail "Architecture: $(field Architecture)"
depends=$(field Depends)
for p in etcd-server libssl3 libbotan-2-19 libyaml-cpp0.7 libre2-9 libsystemd0; do
  [[ ", $depends, " == *", $p, "* ]] || fail "Depends lacks $p: $depends"
done
[[ $(field Built-Using) == "botan (= $(dpkg-query -W -f='${source:Version}' libbotan-2-dev))" ]] ||
  fail "Built-Using: '$(field Built-Using)', not Botan's source version (the tools embed its archive)"
info=$(dpkg-deb -I "$deb")
grep -q ' postinst ' <<<"$info" || fail "no postinst (the trellis user)"
echo "ok: control fields (Depends: $depends)"

# Unpacked with dpkg into a scratch root (its own database; --unpack runs no maintainer script).
root=$scratch/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
touch "$root/var/lib/dpkg/status"
dpkg --root="$root" --force-depends --force-not-root --unpack "$deb" >"$scratch/dpkg.log" 2>&1 ||
  fail "dpkg --root --unpack: $(cat "$scratch/dpkg.log")"
files=$(dpkg --root="$root" -L trellis)
grep -qx /usr/bin/cluster-config <<<"$files" || fail "dpkg does not list /usr/bin/cluster-config"

# Every library the packaged binaries and libtrellis link is in a package the control file depends on.
libs=$(ldconfig -p)  # read once: a pipe cut short by awk's exit would fail under pipefail
for elf in "$root"/usr/bin/* "$root/usr/lib/$multiarch/libtrellis.so.0"; do
  for lib in $(objdump -p "$elf" | awk '/NEEDED/{print $2}'); do
    [[ $lib == ld-linux* ]] && continue
    path=$(awk -v l="$lib" '$1==l{print $NF; exit}' <<<"$libs")
    [[ -n $path ]] || fail "$(basename "$elf") links $lib, which this machine lacks"
    owner=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null || dpkg -S "$path" 2>/dev/null || true)
    pkg=${owner%%:*}
    [[ -n $pkg ]] || fail "no package owns $path ($lib)"
    [[ ", $depends, " == *", $pkg, "* ]] || fail "$(basename "$elf") links $lib of $pkg, not in Depends"
  done
done
echo "ok: every linked library comes from a package in Depends"

# The offline tools load no network stack: every shared library costs each start (docs/performance.md).
for t in certgen certgen-json cluster-config; do
  net=$(objdump -p "$root/usr/bin/$t" | awk '/NEEDED/ && $2 ~ /^(libssl|libcpp-httplib|libbrotli|libz)\./ {print $2}')
  if [[ -n $net ]]; then fail "$t links $(echo $net), which only the tools that talk to etcd or the API need"; fi
done
echo "ok: certgen, certgen-json and cluster-config load no network stack"

# The installed tools work: provision the loopback example with the unpacked cluster-config, lint it.
cc=$root/usr/bin/cluster-config
"$cc" --help >/dev/null || fail "the installed cluster-config does not run"
(cd "$scratch" && timeout 120 "$cc" provision "$src/examples/loopback-3.yml" --out out >"$scratch/provision.log" 2>&1) ||
  fail "installed cluster-config provision: $(cat "$scratch/provision.log")"
for n in backend-1 backend-2 backend-3; do
  [[ -s $scratch/out/$n/backend.yml && -s $scratch/out/$n/trellis-backend.service ]] || fail "no files for $n"
  [[ $(stat -c %a "$scratch/out/$n/$n-key.pem") == 600 ]] || fail "$n-key.pem is not 0600"
done
(cd "$scratch" && timeout 60 "$cc" lint out/backend-{1,2,3}/backend.yml >"$scratch/lint.log" 2>&1) ||
  fail "lint of what the installed tool provisioned: $(cat "$scratch/lint.log")"
grep -q "^ExecStart=/usr/bin/trellis-backend " "$root/usr/lib/systemd/system/trellis-backend.service" ||
  fail "the packaged unit does not run /usr/bin/trellis-backend: $(grep ExecStart "$root/usr/lib/systemd/system/trellis-backend.service")"
grep -qx "prefix=/usr" "$root/usr/lib/$multiarch/pkgconfig/trellis.pc" || fail "trellis.pc's prefix is not /usr"
echo "ok: the installed cluster-config provisions loopback-3 and lint is clean"
