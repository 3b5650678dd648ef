// trellisctl's cli.yml settings file.
#include "fuzz.hpp"
#include "settings.hpp"

TRELLIS_FUZZ_TARGET([](std::string_view in) { trellis::ctl::file_layer(in, "cli.yml"); })
