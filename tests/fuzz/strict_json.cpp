// The strict JSON reader every JSON input goes through.
#include "core/strict_json.hpp"
#include "fuzz.hpp"

TRELLIS_FUZZ_TARGET([](std::string_view in) { trellis::parse_json(in, "fuzz.json"); })
