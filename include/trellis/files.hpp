// Public API: writing files safely. FileSet writes a group of files all-or-nothing, each
// atomically (temp + fsync + rename) with exactly the mode asked for (kSecretMode for keys).
// Its commit() never replaces a file that holds something else unless asked (overwrite=true).
#pragma once

#include "core/files.hpp"  // std-only; installed as trellis/core/files.hpp
