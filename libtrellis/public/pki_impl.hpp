// Internal: what the public API's opaque handles (include/trellis/keys.hpp, certificates.hpp) hold.
// Only the library's own sources include this; it is never installed.
#pragma once

#include "pki/certificate.hpp"
#include "pki/key.hpp"
#include "trellis/certificates.hpp"
#include "trellis/keys.hpp"

namespace trellis::detail {

struct KeyImpl {
    pki::PrivateKey key;
};

struct CertificateImpl {
    pki::Certificate cert;
};

inline PrivateKey wrap(pki::PrivateKey key) {
    return PrivateKey(std::make_shared<const KeyImpl>(KeyImpl{std::move(key)}));
}
inline Certificate wrap(pki::Certificate cert) {
    return Certificate(std::make_shared<const CertificateImpl>(CertificateImpl{std::move(cert)}));
}

}  // namespace trellis::detail
