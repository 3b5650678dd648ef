#!/usr/bin/env bash
# Regenerates the TLS fixtures of tests/ctl/client_test.cpp with the openssl CLI (run from this folder).
# ECDSA P-256, SHA-256, 100-year validity so the fixtures never expire; the CA keys are not kept.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
days=36500
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; chmod 600 "$1"; }
ca() { # name cn
  key "$tmp/$1-key.pem"
  openssl req -x509 -new -key "$tmp/$1-key.pem" -sha256 -days $days -subj "/CN=$2" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -out "$1.pem"
}
leaf() { # name cn ca extensions
  key "$1-key.pem"
  openssl req -new -key "$1-key.pem" -subj "/CN=$2" -out "$tmp/$1.csr"
  printf '%b' "$4" > "$tmp/$1.ext"
  openssl x509 -req -in "$tmp/$1.csr" -CA "$3.pem" -CAkey "$tmp/$3-key.pem" -CAcreateserial -CAserial "$tmp/$3.srl" \
    -sha256 -days $days -extfile "$tmp/$1.ext" -out "$1.pem" 2>/dev/null
}
ca ca "Trellis test CA"
ca other-ca "Some other CA"
# Names 127.0.0.1 and 127.0.0.61-64 but not 127.0.0.65, where the wrong-name test listens.
leaf server "backend API" ca "subjectAltName=IP:127.0.0.1,IP:127.0.0.61,IP:127.0.0.62,IP:127.0.0.63,IP:127.0.0.64\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n"
leaf admin admin ca "extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n"
leaf stranger stranger other-ca "extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n"
