// The contract every fuzz target checks: whatever the bytes, a parser either
// succeeds or throws a trellis::Error whose code is documented (docs/errors.md)
// and is not the "internal error" bucket. Anything else — another exception, a
// crash, a hang, a sanitizer report — is a bug that libFuzzer stops on.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string_view>

#include "core/error.hpp"

namespace trellis::fuzz {

inline bool documented(Code code) {
    for (const auto& info : all_codes())
        if (info.code == code) return code != Code::Internal;
    return false;
}

template <typename Body>
int run_one(const std::uint8_t* data, std::size_t size, Body&& body) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    try {
        body(input);
    } catch (const Error& e) {
        if (!documented(e.code())) {
            std::fprintf(stderr, "undocumented or internal error code %d: %s\n", e.number(), e.what());
            std::abort();
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "a std::exception escaped instead of a trellis::Error: %s\n", e.what());
        std::abort();
    }
    return 0;
}

}  // namespace trellis::fuzz

// One fuzz target: TRELLIS_FUZZ_TARGET([](std::string_view in) { parse(in); })
#define TRELLIS_FUZZ_TARGET(body)                                                       \
    extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) { \
        return trellis::fuzz::run_one(data, size, body);                                \
    }
