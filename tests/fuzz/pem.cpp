// PEM certificates, bundles, keys and CSRs, and certinfo's view of them.
#include "fuzz.hpp"
#include "pki/certificate.hpp"
#include "pki/certinfo.hpp"
#include "pki/key.hpp"

namespace {
void parse_all(std::string_view in) {
    using namespace trellis;
    try {
        for (const auto& cert : pki::Certificate::all_from_pem(in, "fuzz.pem")) pki::certificate_info(cert);
    } catch (const Error& e) {
        if (!fuzz::documented(e.code())) throw;
    }
    try {
        pki::csr_info(pki::Csr::from_pem(in, "fuzz.csr"));
    } catch (const Error& e) {
        if (!fuzz::documented(e.code())) throw;
    }
    pki::PrivateKey::from_pem(in, "fuzz-key.pem");
}
}  // namespace

TRELLIS_FUZZ_TARGET(parse_all)
