// Golden-file comparison for trellisctl's outputs: tests/data/ctl/golden/<name>.
// TRELLIS_UPDATE_GOLDEN=1 rewrites the files from the current output (tests/support/golden_files.hpp).
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "golden_files.hpp"
#include "support.hpp"

namespace trellis::ctl::testing {

inline void expect_golden(const std::string& name, const std::string& actual) {
    trellis::testing::expect_golden(trellis::testing::data_path("ctl/golden/" + name), actual);
}

inline std::string fixture(const std::string& name) {
    return trellis::testing::slurp(trellis::testing::data_path("api/" + name));
}

}  // namespace trellis::ctl::testing
