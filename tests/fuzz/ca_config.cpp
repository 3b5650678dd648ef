// cfssl ca-config.json signing policies.
#include "fuzz.hpp"
#include "pki/policy.hpp"

TRELLIS_FUZZ_TARGET([](std::string_view in) {
    trellis::Warnings warnings;
    trellis::pki::parse_signing_policy(in, "ca-config.json", warnings);
})
