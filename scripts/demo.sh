#!/usr/bin/env bash
# The README's main job, until the cluster bring-up exists: set up and build,
# then run the guide's certificate steps with certgen | certgen-json into
# out/demo-certs/ (fresh each run) and show what each certificate is for.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
root=$(pwd)
out=$root/out/demo-certs
rm -rf "$out" && mkdir -p "$out"
export PATH="$root/build/certgen:$PATH"

echo "==> the guide's certificate steps with certgen (tests/data/certgen/guide-cfssl.sh, cfssl -> certgen)"
sed -e 's/cfssljson/certgen-json/g; s/cfssl gencert/certgen gencert/g' tests/data/certgen/guide-cfssl.sh > "$out/.guide.sh"
(cd "$out" && bash -euo pipefail .guide.sh) && rm -f "$out/.guide.sh"

for name in ca backend-1 backend-2 backend-3 client; do
  echo "--- $name.pem"
  openssl x509 -in "$out/$name.pem" -noout -subject -ext subjectAltName 2>/dev/null | grep . \
    || openssl x509 -in "$out/$name.pem" -noout -subject
  openssl verify -CAfile "$out/ca.pem" "$out/$name.pem" >/dev/null && echo "verified against ca.pem"
done
echo "==> files in $out:"
ls -l "$out"
