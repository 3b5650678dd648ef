// certgen-json's reading of cfssl output: which files a gencert/sign/bundle/
// ocsp response becomes (cfssljson's names and modes), without touching disk.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

namespace trellis::certgen {

struct OutputFile {
    std::string name;      // PREFIX + suffix: "ca.pem", "ca-key.pem", "ca.csr"
    std::string contents;  // bytes to write (DER for binary members)
    bool binary = false;   // printed base64 with -stdout, as cfssljson does
    mode_t mode = 0644;
};

// Parses `text` (cfssl's API wrapper {"success":..,"result":{..}}, or the bare
// object with `bare`) and returns the files it holds, in cfssljson's order:
// cert, key, encrypted key, csr, bundle, root, OCSP response, CRL.
// Errors name `source` and the member; a document with nothing to write is an error.
std::vector<OutputFile> files_from_response(std::string_view text, bool bare, std::string_view source,
                                            std::string_view prefix);

}  // namespace trellis::certgen
