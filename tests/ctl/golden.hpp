// Golden-file comparison for trellisctl's outputs: tests/data/ctl/golden/<name>.
// Set TRELLIS_UPDATE_GOLDEN=1 to rewrite the files from the current output (then review the diff).
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "support.hpp"

namespace trellis::ctl::testing {

inline void expect_golden(const std::string& name, const std::string& actual) {
    const auto path = trellis::testing::data_path("ctl/golden/" + name);
    const char* update = std::getenv("TRELLIS_UPDATE_GOLDEN");
    if (update != nullptr && std::string(update) == "1") {
        trellis::testing::spit(path, actual);
        return;
    }
    EXPECT_EQ(trellis::testing::slurp(path), actual)
        << "golden file " << path << " differs (TRELLIS_UPDATE_GOLDEN=1 rewrites it)";
}

inline std::string fixture(const std::string& name) {
    return trellis::testing::slurp(trellis::testing::data_path("api/" + name));
}

}  // namespace trellis::ctl::testing
