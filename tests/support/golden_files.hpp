// The one golden-file switch of the suite: TRELLIS_UPDATE_GOLDEN=1 (exactly "1"; unset, empty or
// anything else compares) rewrites every golden file from the current output; review the diff after.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>
#include <string>

#include "support.hpp"

namespace trellis::testing {

// Is TRELLIS_UPDATE_GOLDEN=1 set? Tests that write whole directories of expected files ask this.
bool update_golden();

// Compares `actual` with the golden file at `path` (a test failure naming the file when it differs
// or is missing); under update_golden() writes `actual` there instead.
inline void expect_golden(const std::filesystem::path& path, const std::string& actual) {
    if (update_golden()) {
        std::filesystem::create_directories(path.parent_path());
        spit(path, actual);
        std::cerr << "updated golden file " << path.string() << "\n";
        return;
    }
    if (!std::filesystem::exists(path)) {
        ADD_FAILURE() << "golden file " << path.string() << " is missing; TRELLIS_UPDATE_GOLDEN=1 writes it";
        return;
    }
    EXPECT_EQ(actual, slurp(path)) << "golden file " << path.string()
                                   << " differs; if intended, rerun with TRELLIS_UPDATE_GOLDEN=1 and review the diff";
}

}  // namespace trellis::testing
