// Bad input through the CLI: each mistake gets its stable code in the stderr
// line, exit status 1 (2 for a wrong command line), nothing on stdout, and no
// file written.
#include <gtest/gtest.h>

#include "helpers.hpp"

namespace trellis::certgen_test {
namespace {

using testing::TempDir;

// A directory with a certgen CA, a non-CA leaf and the guide's config, shared by the cases.
class BadInput : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        dir_ = new TempDir();
        auto ca = certgen({"gencert", "-initca", "-"}, kCaRequest, dir_->path());
        ASSERT_EQ(ca.exit_code, 0) << ca.err;
        ASSERT_EQ(certgen_json({"-bare", "ca"}, ca.out, dir_->path()).exit_code, 0);
        auto other = certgen({"gencert", "-initca", "-"}, R"({"CN":"Other CA"})", dir_->path());
        ASSERT_EQ(certgen_json({"-bare", "other"}, other.out, dir_->path()).exit_code, 0);
        auto leaf = certgen({"gencert", "-ca=ca.pem", "-ca-key=ca-key.pem", "-hostname=127.0.0.1", "-"},
                            guide_request("leaf"), dir_->path());
        ASSERT_EQ(certgen_json({"-bare", "leaf"}, leaf.out, dir_->path()).exit_code, 0);
        testing::spit(dir_->path() / "ca-config.json", kCaConfig);
        testing::spit(dir_->path() / "unreadable.pem", "x");
        fs::permissions(dir_->path() / "unreadable.pem", fs::perms::none);
    }
    static void TearDownTestSuite() { delete dir_; }

    struct Case {
        std::string name;
        std::vector<std::string> args;
        std::string input;
        int code;
        int exit = 1;
    };

    // Runs `c` in a fresh subdirectory (so "no file written" is checkable) with the
    // shared fixtures reachable as ../.
    static void expect_failure(const Case& c) {
        const fs::path work = dir_->path() / ("case-" + c.name);
        fs::create_directories(work);
        auto r = certgen(c.args, c.input, work);
        EXPECT_EQ(r.exit_code, c.exit) << c.name << ": " << r.err;
        EXPECT_EQ(error_code(r), c.code) << c.name << ": " << r.err;
        EXPECT_TRUE(r.out.empty()) << c.name << ": stdout: " << r.out;
        // One line for the error; only warnings may precede it.
        const auto last = r.err.substr(r.err.rfind('\n', r.err.size() - 2) + 1);
        EXPECT_EQ(last.rfind("certgen: error: ", 0), 0u) << c.name << ": " << r.err;
        EXPECT_TRUE(dir_entries(work).empty()) << c.name;
    }
    static TempDir* dir_;
};
TempDir* BadInput::dir_ = nullptr;

const std::vector<std::string> kSign = {"gencert", "-ca=../ca.pem", "-ca-key=../ca-key.pem", "-hostname=127.0.0.1"};
std::vector<std::string> sign_with(std::vector<std::string> extra) {
    auto args = kSign;
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
}

TEST_F(BadInput, MalformedJson) { expect_failure({"malformed", {"gencert", "-initca", "-"}, R"({"CN":"CA",)", 12001}); }

TEST_F(BadInput, WrongTypes) {
    expect_failure({"cn-number", {"gencert", "-initca", "-"}, R"({"CN":42})", 12002});
    expect_failure({"hosts-string-object", sign_with({"-"}), R"({"CN":"x","hosts":{"a":1}})", 12002});
    expect_failure(
        {"key-size-string", {"gencert", "-initca", "-"}, R"({"CN":"x","key":{"algo":"rsa","size":"big"}})", 12002});
}

TEST_F(BadInput, UnknownKeyInCsrJson) {
    expect_failure({"unknown-key", {"gencert", "-initca", "-"}, R"({"CN":"x","host":["a"]})", 12003});
}

TEST_F(BadInput, UnknownAlgorithm) {
    expect_failure({"dsa", {"gencert", "-initca", "-"}, R"({"CN":"x","key":{"algo":"dsa","size":2048}})", 2102});
}

TEST_F(BadInput, WeakKeySizes) {
    expect_failure({"rsa-1024", {"gencert", "-initca", "-"}, R"({"CN":"x","key":{"algo":"rsa","size":1024}})", 2102});
    expect_failure({"rsa-1024-leaf", sign_with({"-"}), R"({"CN":"x","key":{"algo":"rsa","size":1024}})", 2102});
    expect_failure({"ecdsa-224", {"genkey", "-"}, R"({"CN":"x","key":{"algo":"ecdsa","size":224}})", 2102});
}

TEST_F(BadInput, KeyDoesNotMatchTheCaCertificate) {
    expect_failure(
        {"mismatch", {"gencert", "-ca=../ca.pem", "-ca-key=../other-key.pem", "-"}, guide_request("x"), 2103});
}

TEST_F(BadInput, UnreadableFiles) {
    if (::geteuid() == 0) {
        // root reads a 0000 file; a directory is unreadable as a file for everyone.
        expect_failure({"dir-as-csr", {"gencert", "-initca", ".."}, {}, 13001});
    } else {
        expect_failure({"unreadable-csr", {"gencert", "-initca", "../unreadable.pem"}, {}, 13001});
    }
    expect_failure({"missing-csr", {"gencert", "-initca", "../nope.json"}, {}, 13001});
    expect_failure(
        {"missing-ca", {"gencert", "-ca=../nope.pem", "-ca-key=../ca-key.pem", "-"}, guide_request("x"), 13001});
    expect_failure({"missing-env",
                    {"gencert", "-ca=env:TRELLIS_NO_SUCH_VAR", "-ca-key=../ca-key.pem", "-"},
                    guide_request("x"),
                    13001});
    expect_failure({"missing-config", sign_with({"-config=../nope.json", "-"}), guide_request("x"), 13001});
}

TEST_F(BadInput, NotPemWhereACertificateBelongs) {
    expect_failure(
        {"config-as-ca", {"gencert", "-ca=../ca-config.json", "-ca-key=../ca-key.pem", "-"}, guide_request("x"), 1002});
}

TEST_F(BadInput, CaCertificateThatIsNotACa) {
    expect_failure(
        {"leaf-as-ca", {"gencert", "-ca=../leaf.pem", "-ca-key=../leaf-key.pem", "-"}, guide_request("x"), 1100});
}

TEST_F(BadInput, UnknownProfileWithStrict) {
    expect_failure({"strict-profile", sign_with({"-config=../ca-config.json", "-profile=peer", "--strict", "-"}),
                    guide_request("x"), 5002});
}

TEST_F(BadInput, MisspeltUsageInConfig) {
    testing::spit(
        dir_->path() / "typo-config.json",
        R"({"signing":{"default":{"expiry":"8760h","usages":["signing","key encipherment","server auht"]}}})");
    expect_failure({"usage-typo", sign_with({"-config=../typo-config.json", "-"}), guide_request("x"), 5003});
}

TEST_F(BadInput, BadDurationInConfig) {
    testing::spit(dir_->path() / "duration-config.json",
                  R"({"signing":{"default":{"expiry":"one year","usages":["signing"]}}})");
    expect_failure({"duration", sign_with({"-config=../duration-config.json", "-"}), guide_request("x"), 5005});
}

TEST_F(BadInput, InvalidDnsName) {
    expect_failure({"bad-host",
                    {"gencert", "-ca=../ca.pem", "-ca-key=../ca-key.pem", "-hostname=bad_host..name", "-"},
                    guide_request("x"),
                    9002});
}

TEST_F(BadInput, CaSectionWithoutInitca) {
    expect_failure({"ca-section", sign_with({"-"}), R"({"CN":"x","ca":{"expiry":"1h"}})", 9001});
}

TEST_F(BadInput, EmptyPassphrase) {
    testing::spit(dir_->path() / "empty.pass", "\n");
    expect_failure(
        {"empty-pass", {"gencert", "-initca", "-key-passphrase-file=../empty.pass", "-"}, kCaRequest, 12005});
}

TEST_F(BadInput, UsageErrorsExit2) {
    expect_failure({"no-ca", {"gencert", "-"}, guide_request("x"), 12006, 2});  // cfssl exits 0 here
    expect_failure({"no-ca-key", {"gencert", "-ca=../ca.pem", "-"}, guide_request("x"), 12006, 2});
    expect_failure({"typo-flag", {"gencert", "-profle=peer", "-"}, guide_request("x"), 12006, 2});
    expect_failure({"wrong-flag-for-command", {"genkey", "-ca=../ca.pem", "-"}, guide_request("x"), 12006, 2});
    expect_failure({"no-command", {}, {}, 12006, 2});
    expect_failure({"unknown-command", {"gencrt"}, {}, 12006, 2});
    expect_failure({"missing-arg", {"gencert", "-initca"}, {}, 12006, 2});
    expect_failure({"extra-arg", {"gencert", "-initca", "-", "more"}, kCaRequest, 12006, 2});
    expect_failure({"domain", {"certinfo", "-domain", "example.com"}, {}, 12006, 2});
}

TEST_F(BadInput, TypoFlagNamesTheClosestOne) {
    auto r = certgen({"gencert", "-profle=peer", "-"}, guide_request("x"), dir_->path());
    EXPECT_NE(r.err.find("-profile"), std::string::npos) << r.err;
}

// certgen-json: bad input writes nothing.
TEST_F(BadInput, CertgenJsonWritesNothingOnBadInput) {
    const std::vector<std::tuple<std::string, std::vector<std::string>, std::string, int>> cases{
        {"empty", {"-bare", "x"}, "", 12001},
        {"malformed", {"-bare", "x"}, R"({"cert":)", 12001},
        {"wrong-type", {"-bare", "x"}, R"({"cert":"C","key":7})", 12002},
        {"no-wrapper", {"x"}, R"({"cert":"C"})", 12004},
        {"failed-response", {"x"}, R"({"success":false,"errors":[{"code":1,"message":"boom"}]})", 12005},
        {"nothing", {"-bare", "x"}, R"({"sums":{}})", 12004},
        {"bad-base64", {"-bare", "x"}, R"({"cert":"C","ocspResponse":"***"})", 12005},
        {"two-prefixes", {"-bare", "x", "y"}, R"({"cert":"C"})", 12006},
    };
    for (const auto& [name, args, input, code] : cases) {
        const fs::path work = dir_->path() / ("json-" + name);
        fs::create_directories(work);
        auto r = certgen_json(args, input, work);
        EXPECT_EQ(r.exit_code, code == 12006 ? 2 : 1) << name << ": " << r.err;
        EXPECT_EQ(error_code(r), code) << name << ": " << r.err;
        EXPECT_TRUE(dir_entries(work).empty()) << name;
    }
}

TEST_F(BadInput, CertgenJsonRefusesToReplaceADifferentFileAndWritesNoneOfTheSet) {
    const fs::path work = dir_->path() / "json-exists";
    fs::create_directories(work);
    testing::spit(work / "x-key.pem", "the user's key\n");
    auto r = certgen_json({"-bare", "x"}, R"({"cert":"C\n","key":"K\n","csr":"R\n"})", work);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(error_code(r), 13003) << r.err;
    EXPECT_NE(r.err.find("x-key.pem"), std::string::npos) << r.err;
    EXPECT_EQ(dir_entries(work), std::vector<std::string>{"x-key.pem"});  // not x.pem either
    EXPECT_EQ(testing::slurp(work / "x-key.pem"), "the user's key\n");

    auto forced = certgen_json({"-bare", "-overwrite", "x"}, R"({"cert":"C\n","key":"K\n","csr":"R\n"})", work);
    EXPECT_EQ(forced.exit_code, 0) << forced.err;
    EXPECT_EQ(testing::slurp(work / "x-key.pem"), "K\n");
    EXPECT_EQ(file_mode(work / "x-key.pem"), 0600u);
}

}  // namespace
}  // namespace trellis::certgen_test
