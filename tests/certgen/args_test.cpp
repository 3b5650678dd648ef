// Unit tests of certgen's CLI-only helpers: Go-style flag normalization and
// certgen-json's reading of cfssl output.
#include <gtest/gtest.h>

#include <array>

#include "args.hpp"
#include "core/error.hpp"
#include "response.hpp"

namespace trellis::certgen {
namespace {

constexpr std::array<FlagName, 5> kTable{{
    {"initca", FlagKind::Bool},
    {"ca", FlagKind::Value},
    {"hostname", FlagKind::Value},
    {"f", FlagKind::Value},
    {"bare", FlagKind::Bool},
}};

std::vector<std::string> norm(std::vector<std::string> args) { return normalize_args(kTable, args); }
using V = std::vector<std::string>;

TEST(NormalizeArgs, SingleAndDoubleDashLongFlagsBecomeDoubleDash) {
    EXPECT_EQ(norm({"gencert", "-initca", "-"}), (V{"gencert", "--initca", "-"}));
    EXPECT_EQ(norm({"-ca=ca.pem"}), (V{"--ca", "ca.pem"}));
    EXPECT_EQ(norm({"-ca", "ca.pem"}), (V{"--ca", "ca.pem"}));
    EXPECT_EQ(norm({"--ca=ca.pem"}), (V{"--ca", "ca.pem"}));
    EXPECT_EQ(norm({"--ca", "ca.pem"}), (V{"--ca", "ca.pem"}));
}

TEST(NormalizeArgs, EmptyValueStaysEmptyInsteadOfTakingTheNextArgument) {
    EXPECT_EQ(norm({"-hostname=", "-"}), (V{"--hostname", "", "-"}));
}

TEST(NormalizeArgs, ValueThatLooksLikeAFlagIsKeptAsGoDoes) {
    EXPECT_EQ(norm({"-hostname", "-initca"}), (V{"--hostname", "-initca"}));
}

TEST(NormalizeArgs, BoolFlagsKeepAnExplicitValue) {
    EXPECT_EQ(norm({"-initca=false"}), (V{"--initca=false"}));
    EXPECT_EQ(norm({"-bare=true", "x"}), (V{"--bare=true", "x"}));
}

TEST(NormalizeArgs, OneLetterFlagsStaySingleDash) {
    EXPECT_EQ(norm({"-f", "in.json"}), (V{"-f", "in.json"}));
    EXPECT_EQ(norm({"--f=in.json"}), (V{"-f", "in.json"}));
    EXPECT_EQ(norm({"-h"}), (V{"-h"}));
}

TEST(NormalizeArgs, EverythingAfterDoubleDashIsPositional) { EXPECT_EQ(norm({"--", "-ca"}), (V{"--", "-ca"})); }

TEST(NormalizeArgs, UnknownLongSingleDashFlagIsAUsageErrorNamingTheClosest) {
    try {
        norm({"-hostnme=a"});
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), Code::Usage);
        EXPECT_NE(std::string(e.what()).find("-hostnme"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("did you mean -hostname?"), std::string::npos) << e.what();
    }
}

TEST(NormalizeArgs, UnknownDoubleDashIsLeftForCli11) { EXPECT_EQ(norm({"--nope"}), (V{"--nope"})); }

std::vector<std::string> names(const std::vector<OutputFile>& files) {
    std::vector<std::string> out;
    for (const auto& f : files) out.push_back(f.name);
    return out;
}

TEST(FilesFromResponse, BareGencertOutputInCfssljsonOrderAndModes) {
    const auto files = files_from_response(R"({"cert":"C","csr":"R","key":"K"})", true, "in", "ca");
    EXPECT_EQ(names(files), (V{"ca.pem", "ca-key.pem", "ca.csr"}));
    EXPECT_EQ(files[0].mode, 0644u);
    EXPECT_EQ(files[1].mode, 0600u);
    EXPECT_EQ(files[2].mode, 0644u);
    EXPECT_EQ(files[1].contents, "K");
}

TEST(FilesFromResponse, ApiWrapperAndLongNames) {
    const auto files = files_from_response(
        R"({"success":true,"result":{"certificate":"C","private_key":"K","certificate_request":"R","sums":{}},"errors":[],"messages":[]})",
        false, "in", "x");
    EXPECT_EQ(names(files), (V{"x.pem", "x-key.pem", "x.csr"}));
}

TEST(FilesFromResponse, BundlesOcspAndCrl) {
    const auto old_bundle = files_from_response(R"({"bundle":"B"})", true, "in", "x");
    EXPECT_EQ(names(old_bundle), (V{"x-bundle.pem"}));
    const auto new_bundle = files_from_response(R"({"bundle":{"bundle":"B","root":"R"}})", true, "in", "x");
    EXPECT_EQ(names(new_bundle), (V{"x-bundle.pem", "x-root.pem"}));
    EXPECT_EQ(new_bundle[0].contents, "B\nR");
    const auto ocsp = files_from_response(R"({"ocspResponse":"AAEC","crl":"MAA="})", true, "in", "x");
    EXPECT_EQ(names(ocsp), (V{"x-response.der", "x.crl"}));
    EXPECT_EQ(ocsp[0].contents, std::string("\x00\x01\x02", 3));
    EXPECT_TRUE(ocsp[0].binary);
    EXPECT_EQ(ocsp[1].contents, std::string("\x30\x00", 2));
}

TEST(FilesFromResponse, ErrorsNameTheSourceAndMember) {
    auto code_of = [](std::string_view text, bool bare) {
        try {
            files_from_response(text, bare, "resp.json", "x");
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find("resp.json"), std::string::npos) << e.what();
            return e.code();
        }
        return Code::Internal;
    };
    EXPECT_EQ(code_of("", true), Code::InputMalformed);
    EXPECT_EQ(code_of("[1]", true), Code::InputWrongType);
    EXPECT_EQ(code_of(R"({"key":1})", true), Code::InputWrongType);
    EXPECT_EQ(code_of(R"({"cert":"C"})", false), Code::InputMissingKey);
    EXPECT_EQ(code_of(R"({"success":false,"errors":[{"message":"no"}]})", false), Code::InputInvalidValue);
    EXPECT_EQ(code_of(R"({"other":"C"})", true), Code::InputMissingKey);
    EXPECT_EQ(code_of(R"({"bundle":{"bundle":"B"}})", true), Code::InputMissingKey);
}

}  // namespace
}  // namespace trellis::certgen
