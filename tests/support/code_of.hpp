// The stable code of the trellis::Error a call throws, for tests that assert it with EXPECT_EQ:
// Code::Internal when the call throws none, never the code a test expects.
#pragma once

#include <functional>

#include "core/error.hpp"

namespace trellis::testing {

inline Code code_of(const std::function<void()>& call) {
    try {
        call();
    } catch (const Error& e) {
        return e.code();
    }
    return Code::Internal;
}

}  // namespace trellis::testing
