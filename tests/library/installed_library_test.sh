#!/usr/bin/env bash
# The library as a user gets it: `meson install --destdir` this build into a scratch root, check
# the public headers name no OpenSSL/Botan/yaml-cpp type, build examples/library/make_certs.cpp
# against the INSTALLED copy with pkg-config (shared, then libtrellis.a), run it, and
# check what it wrote: modes, an IP SAN 127.0.0.1, `openssl verify`, and no overwrite on a rerun.
# Usage: installed_library_test.sh SOURCE_ROOT BUILD_ROOT
set -euo pipefail
src=$1 build=$2
source "$src/tests/support/install_scratch.sh" "$build"  # fail, $scratch, $root: this build installed

pc=$(find "$root" -name trellis.pc -print -quit)
[[ -n $pc ]] || fail "no trellis.pc installed"
export PKG_CONFIG_SYSROOT_DIR=$root PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_LIBDIR=$(dirname "$pc"):/usr/lib/x86_64-linux-gnu/pkgconfig:/usr/share/pkgconfig
libdir=$(dirname "$(dirname "$pc")")
for f in libtrellis.a libtrellis.so; do [[ -e $libdir/$f ]] || fail "$f not installed in $libdir"; done
for tool in certgen certgen-json cluster-config trellis-backend trellisctl; do
  [[ -x $(dirname "$libdir")/bin/$tool || -x $root/usr/local/bin/$tool ]] || fail "$tool not installed"
done

incdir=$(find "$root" -type d -path '*/include/trellis' -print -quit)
[[ -f $incdir/trellis.hpp ]] || fail "trellis/trellis.hpp not installed"
if leaks=$(grep -rnE '#include <(openssl|botan|yaml-cpp|nlohmann|httplib)|EVP_|X509|BIO_' "$incdir"); then
  fail "public headers expose a third-party type:"$'\n'"$leaks"
fi

# A sanitizer build (scripts/sanitize.sh) installs a library instrumented for ASan/UBSan, whose runtimes
# only the compiler driver links into an executable: build the example as that build was built.
read -r build_cxx sanitize < <(python3 - "$build" <<'PY'
import json, subprocess, sys
intro = lambda what: json.loads(subprocess.check_output(['meson', 'introspect', sys.argv[1], what]))
cxx = next(s['compiler'][0] for t in intro('--targets') for s in t['target_sources'] if s['language'] == 'cpp')
print(cxx, next(o['value'] for o in intro('--buildoptions') if o['name'] == 'b_sanitize'))
PY
)
cxx=${CXX:-c++} san=()
[[ $sanitize == none ]] || cxx=${CXX:-$build_cxx} san=("-fsanitize=$sanitize")
cd "$scratch"
# shellcheck disable=SC2046  # pkg-config's output is meant to be split into flags
timeout 120 "$cxx" "${san[@]}" -std=c++20 -c "$src/examples/library/make_certs.cpp" -o make_certs.o \
  $(pkg-config --cflags trellis) || fail "the example does not compile against the installed headers"
# shellcheck disable=SC2046
timeout 120 "$cxx" "${san[@]}" make_certs.o -o make_certs_shared $(pkg-config --libs trellis) ||
  fail "the example does not link with pkg-config --libs trellis"
# libtrellis.a with the libraries its Requires.private names, linked as the system has them (shared):
# proves the .pc lists every library the archive needs. (`pkg-config --static` goes on to ask for
# static copies of those libraries' own dependencies, which Debian's -dev packages do not all ship.)
requires_private=$(pkg-config --print-requires-private trellis | awk '{print $1}')
# shellcheck disable=SC2046
timeout 120 "$cxx" "${san[@]}" make_certs.o -o make_certs_static -L"$libdir" -Wl,-Bstatic -ltrellis -Wl,-Bdynamic \
  $(pkg-config --libs $requires_private) $(pkg-config --static --libs-only-other trellis) ||
  fail "the example does not link with libtrellis.a and the .pc's Requires.private ($requires_private)"

check_output() {  # DIR
  local out=$1
  for f in ca/ca-key.pem node-1/peer-key.pem; do
    [[ $(stat -c %a "$out/$f") == 600 ]] || fail "$f has mode $(stat -c %a "$out/$f"), want 600"
  done
  for f in ca/ca.pem node-1/ca.pem node-1/peer.pem; do
    [[ $(stat -c %a "$out/$f") == 644 ]] || fail "$f has mode $(stat -c %a "$out/$f"), want 644"
  done
  [[ ! -e $out/node-1/ca-key.pem ]] || fail "the CA key is in the node's folder"
  openssl verify -CAfile "$out/node-1/ca.pem" -purpose sslserver "$out/node-1/peer.pem" >/dev/null ||
    fail "openssl verify rejects the peer certificate"
  openssl verify -CAfile "$out/node-1/ca.pem" -purpose sslclient "$out/node-1/peer.pem" >/dev/null ||
    fail "openssl verify rejects the peer certificate for client auth"
  openssl x509 -in "$out/node-1/peer.pem" -noout -ext subjectAltName | grep -q 'IP Address:127.0.0.1' ||
    fail "no IP SAN 127.0.0.1 in the peer certificate"
  [[ $(openssl pkey -in "$out/node-1/peer-key.pem" -pubout) == $(openssl x509 -in "$out/node-1/peer.pem" -noout -pubkey) ]] ||
    fail "peer-key.pem does not belong to peer.pem"
}

LD_LIBRARY_PATH=$libdir timeout 60 ./make_certs_shared out-shared >/dev/null || fail "make_certs (shared) failed"
check_output out-shared
timeout 60 ./make_certs_static out-static >/dev/null || fail "make_certs (static) failed"
check_output out-static
ldd make_certs_static | grep -q libtrellis && fail "the static build still needs libtrellis.so"

# A second run makes new keys: it must refuse (FileExists, 13003) and leave the first files alone.
before=$(cat out-static/node-1/peer.pem)
if err=$(timeout 60 ./make_certs_static out-static 2>&1); then fail "a rerun replaced existing files"; fi
[[ $err == *"(code 13003)"* ]] || fail "a rerun failed without FileExists: $err"
[[ $(cat out-static/node-1/peer.pem) == "$before" ]] || fail "a refused rerun changed peer.pem"
echo "ok: installed library, headers and trellis.pc build a working program (shared and static)"
