// certgen against the real peers from Debian: cfssl/cfssljson 1.2 (each signs
// with the other's CA, each reads the other's JSON, cfssl certinfo reads our
// certificates), `openssl verify` for every chain, and Botan path validation.
#include <gtest/gtest.h>

#include <regex>

#include "helpers.hpp"
#include "pki/certificate.hpp"
#include "pki/verify.hpp"

namespace trellis::certgen_test {
namespace {

using testing::TempDir;

void expect_chain_verifies(const fs::path& dir, const std::string& ca, const std::string& leaf,
                           std::optional<std::string> ip = std::nullopt) {
    std::vector<std::string> argv{"openssl", "verify", "-CAfile", ca + ".pem"};
    if (ip) argv.insert(argv.end(), {"-verify_ip", *ip});
    argv.push_back(leaf + ".pem");
    auto r = testing::run(argv, {}, dir);
    EXPECT_EQ(r.exit_code, 0) << leaf << ": " << r.out << r.err;
    EXPECT_NE(r.out.find(": OK"), std::string::npos) << r.out;
    const auto root = pki::Certificate::from_pem(testing::slurp(dir / (ca + ".pem")), ca);
    const auto cert = pki::Certificate::from_pem(testing::slurp(dir / (leaf + ".pem")), leaf);
    pki::VerifyRequest req{cert, {}, {root}, pki::Purpose::Any, ip, std::nullopt};
    const auto botan = pki::verify_with_botan(req);
    EXPECT_TRUE(botan.ok) << leaf << ": " << botan.error;
}

TEST(Interop, CfsslCaSignsWithCertgen) {
    TempDir dir;
    auto ca = cfssl({"gencert", "-initca", "-"}, kCaRequest, dir.path());
    ASSERT_EQ(ca.exit_code, 0) << ca.err;
    ASSERT_EQ(testing::run({"cfssljson", "-bare", "ca"}, ca.out, dir.path()).exit_code, 0);
    testing::spit(dir / "ca-config.json", kCaConfig);
    auto leaf = certgen(
        {"gencert", "-config=ca-config.json", "-ca=ca.pem", "-ca-key=ca-key.pem", "-hostname=127.0.0.1,backend-1", "-"},
        guide_request("backend-1"), dir.path());
    ASSERT_EQ(leaf.exit_code, 0) << leaf.err;
    ASSERT_EQ(certgen_json({"-bare", "backend-1"}, leaf.out, dir.path()).exit_code, 0);
    expect_chain_verifies(dir.path(), "ca", "backend-1", "127.0.0.1");
}

TEST(Interop, CertgenCaSignsWithCfssl) {
    TempDir dir;
    auto ca = certgen({"gencert", "-initca", "-"}, kCaRequest, dir.path());
    ASSERT_EQ(ca.exit_code, 0) << ca.err;
    // cfssljson reads certgen's output as it reads cfssl's.
    auto split = testing::run({"cfssljson", "-bare", "ca"}, ca.out, dir.path());
    ASSERT_EQ(split.exit_code, 0) << split.err;
    testing::spit(dir / "ca-config.json", kCaConfig);
    auto leaf = cfssl(
        {"gencert", "-config=ca-config.json", "-ca=ca.pem", "-ca-key=ca-key.pem", "-hostname=127.0.0.1,backend-1", "-"},
        guide_request("backend-1"), dir.path());
    ASSERT_EQ(leaf.exit_code, 0) << leaf.err;
    // and certgen-json reads cfssl's.
    ASSERT_EQ(certgen_json({"-bare", "backend-1"}, leaf.out, dir.path()).exit_code, 0);
    expect_chain_verifies(dir.path(), "ca", "backend-1", "127.0.0.1");
}

TEST(Interop, EcdsaCertgenCaSignsWithCfsslAndBack) {
    TempDir dir;
    auto ca = certgen({"gencert", "-initca", "-"}, R"({"CN":"EC CA","key":{"algo":"ecdsa","size":256}})", dir.path());
    ASSERT_EQ(certgen_json({"-bare", "ca"}, ca.out, dir.path()).exit_code, 0);
    const std::string req = R"({"CN":"ec","key":{"algo":"ecdsa","size":256}})";
    auto by_cfssl = cfssl({"gencert", "-ca=ca.pem", "-ca-key=ca-key.pem", "-hostname=127.0.0.1", "-"}, req, dir.path());
    ASSERT_EQ(by_cfssl.exit_code, 0) << by_cfssl.err;
    ASSERT_EQ(certgen_json({"-bare", "by-cfssl"}, by_cfssl.out, dir.path()).exit_code, 0);
    expect_chain_verifies(dir.path(), "ca", "by-cfssl", "127.0.0.1");
    auto by_certgen =
        certgen({"gencert", "-ca=ca.pem", "-ca-key=ca-key.pem", "-hostname=127.0.0.1", "-"}, req, dir.path());
    ASSERT_EQ(certgen_json({"-bare", "by-certgen"}, by_certgen.out, dir.path()).exit_code, 0);
    expect_chain_verifies(dir.path(), "ca", "by-certgen", "127.0.0.1");
}

TEST(Interop, CfsslSignsACertgenCsrAndCertgenSignsACfsslCsr) {
    TempDir dir;
    auto ca = certgen({"gencert", "-initca", "-"}, kCaRequest, dir.path());
    ASSERT_EQ(certgen_json({"-bare", "ca"}, ca.out, dir.path()).exit_code, 0);
    auto ours = certgen({"genkey", "-"}, R"({"CN":"ours","hosts":["127.0.0.1"]})", dir.path());
    ASSERT_EQ(certgen_json({"-bare", "ours"}, ours.out, dir.path()).exit_code, 0);
    auto theirs = cfssl({"genkey", "-"}, R"({"CN":"theirs","hosts":["127.0.0.1"]})", dir.path());
    ASSERT_EQ(certgen_json({"-bare", "theirs"}, theirs.out, dir.path()).exit_code, 0);

    auto signed_by_cfssl = cfssl({"sign", "-ca=ca.pem", "-ca-key=ca-key.pem", "ours.csr"}, {}, dir.path());
    ASSERT_EQ(signed_by_cfssl.exit_code, 0) << signed_by_cfssl.err;
    ASSERT_EQ(certgen_json({"-bare", "-overwrite", "ours"}, signed_by_cfssl.out, dir.path()).exit_code, 0);
    expect_chain_verifies(dir.path(), "ca", "ours", "127.0.0.1");

    auto signed_by_certgen = certgen({"sign", "-ca=ca.pem", "-ca-key=ca-key.pem", "theirs.csr"}, {}, dir.path());
    ASSERT_EQ(signed_by_certgen.exit_code, 0) << signed_by_certgen.err;
    ASSERT_EQ(testing::run({"cfssljson", "-bare", "theirs"}, signed_by_certgen.out, dir.path()).exit_code, 0);
    expect_chain_verifies(dir.path(), "ca", "theirs", "127.0.0.1");
}

std::vector<int> key_id_bytes(const std::string& text) {
    std::vector<int> out;
    for (size_t pos = 0; pos < text.size();) {
        const size_t end = std::min(text.find(':', pos), text.size());
        out.push_back(std::stoi(text.substr(pos, end - pos), nullptr, 16));
        pos = end + 1;
    }
    return out;
}

TEST(Interop, CfsslCertinfoReadsCertgenCertificatesAsCertgenDoes) {
    TempDir dir;
    auto ca = certgen({"gencert", "-initca", "-"}, kCaRequest, dir.path());
    ASSERT_EQ(certgen_json({"-bare", "ca"}, ca.out, dir.path()).exit_code, 0);
    auto leaf =
        certgen({"gencert", "-ca=ca.pem", "-ca-key=ca-key.pem", "-hostname=10.0.0.1,backend-1,127.0.0.1,::", "-"},
                guide_request("backend-1"), dir.path());
    ASSERT_EQ(certgen_json({"-bare", "backend-1"}, leaf.out, dir.path()).exit_code, 0);

    auto theirs = cfssl({"certinfo", "-cert", "backend-1.pem"}, {}, dir.path());
    ASSERT_EQ(theirs.exit_code, 0) << theirs.err;
    auto ours = certgen({"certinfo", "-cert", "backend-1.pem"}, {}, dir.path());
    ASSERT_EQ(ours.exit_code, 0) << ours.err;
    const auto t = nlohmann::json::parse(theirs.out);
    const auto o = nlohmann::json::parse(ours.out);
    EXPECT_EQ(t["subject"]["common_name"], "backend-1");
    for (const char* key : {"subject", "issuer", "serial_number", "sans", "sigalg", "pem"})
        EXPECT_EQ(o[key], t[key]) << key;
    // cfssl 1.2 prints key-id bytes with %X ("0E" as "E"); later cfssl and certgen use %02X.
    for (const char* key : {"authority_key_id", "subject_key_id"})
        EXPECT_EQ(key_id_bytes(o[key].get<std::string>()), key_id_bytes(t[key].get<std::string>())) << key;
    const std::vector<std::string> sans{"backend-1", "10.0.0.1", "127.0.0.1", "::"};
    EXPECT_EQ(t["sans"].get<std::vector<std::string>>(), sans);
}

TEST(Interop, TheGuideWithCfsslAndWithCertgenMakesTheSameFilesAndBothVerify) {
    const std::string script = testing::slurp(testing::data_path("certgen/guide-cfssl.sh"));
    TempDir with_cfssl, with_certgen;
    auto a = shell(script, with_cfssl.path());
    ASSERT_EQ(a.exit_code, 0) << a.err;
    std::string ours = std::regex_replace(script, std::regex("cfssljson"), "certgen-json");
    ours = std::regex_replace(ours, std::regex("cfssl gencert"), "certgen gencert");
    auto b = shell(ours, with_certgen.path());
    ASSERT_EQ(b.exit_code, 0) << b.err;
    EXPECT_EQ(dir_entries(with_cfssl.path()), dir_entries(with_certgen.path()));
    for (const auto* dir : {&with_cfssl, &with_certgen}) {
        for (int i = 1; i <= 3; ++i)
            expect_chain_verifies(dir->path(), "ca", "backend-" + std::to_string(i), "10.0.0." + std::to_string(i));
        expect_chain_verifies(dir->path(), "ca", "client");
    }
    // The certificates agree on what matters (cfssl writes an empty DNS SAN, certgen does not).
    for (const std::string name : {"ca", "backend-1", "client"}) {
        auto t = nlohmann::json::parse(cfssl({"certinfo", "-cert", name + ".pem"}, {}, with_cfssl.path()).out);
        auto o = nlohmann::json::parse(cfssl({"certinfo", "-cert", name + ".pem"}, {}, with_certgen.path()).out);
        EXPECT_EQ(o["subject"], t["subject"]) << name;
        EXPECT_EQ(o["sigalg"], t["sigalg"]) << name;
        auto t_sans = t["sans"].is_null() ? std::vector<std::string>{} : t["sans"].get<std::vector<std::string>>();
        std::erase(t_sans, "");
        auto o_sans = o["sans"].is_null() ? std::vector<std::string>{} : o["sans"].get<std::vector<std::string>>();
        EXPECT_EQ(o_sans, t_sans) << name;
    }
}

}  // namespace
}  // namespace trellis::certgen_test
