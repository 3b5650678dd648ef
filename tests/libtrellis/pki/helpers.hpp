// Shared by the pki tests: asserting an Error's code, making CAs and leaves
// quickly, and checking a chain with both verification stacks.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "core/error.hpp"
#include "pki/certificate.hpp"
#include "pki/issue.hpp"
#include "pki/verify.hpp"

namespace trellis::pki::test {

// The code `body` throws, or nullopt (as a failure) if it throws nothing or something else.
inline ::testing::AssertionResult throws_code(const std::function<void()>& body, Code expected) {
    try {
        body();
    } catch (const Error& e) {
        if (e.code() == expected) return ::testing::AssertionSuccess() << e.what();
        return ::testing::AssertionFailure() << "threw " << code_name(e.code()) << " (" << e.number()
                                             << "): " << e.what() << "; expected " << code_name(expected);
    } catch (const std::exception& e) {
        return ::testing::AssertionFailure() << "threw a non-trellis exception: " << e.what();
    }
    return ::testing::AssertionFailure() << "threw nothing; expected " << code_name(expected);
}

// The message of the Error `body` throws (empty if none).
inline std::string error_message(const std::function<void()>& body) {
    try {
        body();
    } catch (const Error& e) {
        return e.what();
    }
    return {};
}

inline CertificateRequest request_json(const std::string& json) {
    Warnings w;
    return parse_certificate_request(json, "test.json", w);
}

struct TestCa {
    Issued issued;
    Signer signer;
};

inline TestCa make_ca(const std::string& json = R"({"CN":"Test CA","key":{"algo":"ecdsa","size":256}})") {
    Warnings w;
    Issued issued = init_ca(request_json(json), w);
    Signer signer(Certificate::from_pem(issued.cert, "ca.pem"), PrivateKey::from_pem(issued.key, "ca-key.pem"));
    return {std::move(issued), std::move(signer)};
}

inline Profile profile_with(std::vector<std::string> usages) {
    Profile p;
    p.usages = std::move(usages);
    return p;
}

// Both stacks must agree; returns "" when both accept, else the reasons (pki::chain_problem).
inline std::string verify_both(const VerifyRequest& req) { return chain_problem(req); }

inline VerifyRequest chain(const std::string& leaf_pem, const std::string& root_pem, Purpose purpose = Purpose::Any,
                           std::optional<std::string> host = std::nullopt) {
    return VerifyRequest{Certificate::from_pem(leaf_pem, "leaf"),
                         {},
                         {Certificate::from_pem(root_pem, "root")},
                         purpose,
                         std::move(host),
                         std::nullopt};
}

}  // namespace trellis::pki::test
