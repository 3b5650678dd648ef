// Public API: the one error type. Every failure of the library is a trellis::Error with a
// stable numeric code (docs/errors.md) and a one-line message naming the input and the reason.
#pragma once

#include "core/error.hpp"  // std headers only (keep it so); installed as trellis/core/error.hpp
