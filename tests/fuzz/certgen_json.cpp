// certgen-json's input: cfssl's API wrapper or a bare response.
#include "fuzz.hpp"
#include "response.hpp"

TRELLIS_FUZZ_TARGET([](std::string_view in) {
    const bool bare = !in.empty() && (static_cast<unsigned char>(in[0]) & 1);
    trellis::certgen::files_from_response(in, bare, "stdin", "out");
})
