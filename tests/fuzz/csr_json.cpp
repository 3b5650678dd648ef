// cfssl CSR JSON, as certgen gencert reads it.
#include "fuzz.hpp"
#include "pki/request.hpp"

TRELLIS_FUZZ_TARGET([](std::string_view in) {
    trellis::Warnings warnings;
    trellis::pki::parse_certificate_request(in, "fuzz.json", warnings);
})
