// The backend API's answers as trellisctl decodes them (libtrellis/api/wire.*): health, the members
// answers and error bodies, whatever a server (or something that is not a Trellis API) sends.
#include "api/wire.hpp"
#include "fuzz.hpp"

TRELLIS_FUZZ_TARGET([](std::string_view in) {
    trellis::api::decode_error(in);
    const auto doc = trellis::api::parse_json(in, "https://127.0.0.1:8080");
    try {
        trellis::api::decode_health(doc, "https://127.0.0.1:8080");
    } catch (const trellis::Error& e) {
        if (!trellis::fuzz::documented(e.code())) throw;
    }
    trellis::api::decode_members(doc, "https://127.0.0.1:8080");
})
