// Public API of libtrellis, all of it: `#include <trellis/trellis.hpp>` and link with
// `pkg-config --cflags --libs trellis` (docs/library.md).
#pragma once

#include "certificates.hpp"
#include "errors.hpp"
#include "files.hpp"
#include "issuing.hpp"
#include "keys.hpp"
#include "lint.hpp"
#include "provision.hpp"
#include "spec.hpp"
#include "store.hpp"
#include "verification.hpp"
