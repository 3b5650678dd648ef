// Every certgen subcommand end to end through the built binary: genkey, sign,
// selfsign, gencrl, certinfo, print-defaults and version, plus golden files of
// the stable outputs (regenerate with TRELLIS_UPDATE_GOLDEN=1).
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "golden_files.hpp"
#include "helpers.hpp"
#include "pki/certificate.hpp"
#include "pki/verify.hpp"

namespace trellis::certgen_test {
namespace {

using testing::TempDir;

void expect_golden(const std::string& name, const std::string& actual) {
    testing::expect_golden(testing::data_path("certgen/" + name), actual);
}

// A CA in `dir` (ca.pem, ca-key.pem) made by certgen.
void make_ca(const TempDir& dir, const std::string& request = kCaRequest) {
    auto ca = certgen({"gencert", "-initca", "-"}, request, dir.path());
    ASSERT_EQ(ca.exit_code, 0) << ca.err;
    auto split = certgen_json({"-bare", "ca"}, ca.out, dir.path());
    ASSERT_EQ(split.exit_code, 0) << split.err;
}

pki::Certificate cert_of(const RunResult& r) {
    return pki::Certificate::from_pem(nlohmann::json::parse(r.out).at("cert").get<std::string>(), "stdout");
}

TEST(Genkey, MakesAKeyAndCsrButNoCertificate) {
    TempDir dir;
    auto r = certgen({"genkey", "-"}, R"({"CN":"web","hosts":["127.0.0.1","web.example"]})", dir.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_FALSE(j.contains("cert"));
    EXPECT_NE(j.at("key").get<std::string>().find("EC PRIVATE KEY"), std::string::npos);  // no "key": ECDSA P-256
    const auto csr = pki::Csr::from_pem(j.at("csr").get<std::string>(), "csr");
    EXPECT_NO_THROW(csr.verify_self_signature("csr"));
}

TEST(Genkey, InitcaMakesACa) {
    TempDir dir;
    auto r = certgen({"genkey", "-initca", "-"}, R"({"CN":"Root","key":{"algo":"ecdsa","size":384}})", dir.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(cert_of(r).is_ca());
}

TEST(Sign, SignsAPemCsrWithHostnamesAndPrintsCertAndCsr) {
    TempDir dir;
    make_ca(dir);
    auto key = certgen({"genkey", "-"}, R"({"CN":"web","hosts":["web.example"]})", dir.path());
    ASSERT_EQ(key.exit_code, 0) << key.err;
    testing::spit(dir / "web.csr", nlohmann::json::parse(key.out).at("csr").get<std::string>());
    auto r =
        certgen({"sign", "-ca=ca.pem", "-ca-key=ca-key.pem", "-hostname=127.0.0.2,web", "web.csr"}, {}, dir.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j.at("csr").get<std::string>(), testing::slurp(dir / "web.csr"));
    EXPECT_FALSE(j.contains("key"));
    const auto c = cert_of(r);
    EXPECT_EQ(c.ip_addresses(), std::vector<std::string>{"127.0.0.2"});
    EXPECT_EQ(c.dns_names(), std::vector<std::string>{"web"});
    const auto ca = pki::Certificate::from_pem(testing::slurp(dir / "ca.pem"), "ca.pem");
    pki::VerifyRequest req{c, {}, {ca}, pki::Purpose::Any, std::string("127.0.0.2"), std::nullopt};
    EXPECT_TRUE(pki::verify_with_openssl(req).ok) << pki::verify_with_openssl(req).error;
    EXPECT_TRUE(pki::verify_with_botan(req).ok) << pki::verify_with_botan(req).error;

    // A SUBJECT file replaces the CN, and -csr works like the argument.
    testing::spit(dir / "subject.json", R"({"CN":"renamed"})");
    auto renamed =
        certgen({"sign", "-ca", "ca.pem", "-ca-key", "ca-key.pem", "-csr", "web.csr", "subject.json"}, {}, dir.path());
    ASSERT_EQ(renamed.exit_code, 0) << renamed.err;
    EXPECT_EQ(cert_of(renamed).common_name(), "renamed");
}

// cfssl's signer.Subject: each field the SUBJECT file sets replaces the request's, the rest stays.
TEST(Sign, SubjectFileReplacesOnlyTheFieldsItSets) {
    TempDir dir;
    make_ca(dir);
    auto key = certgen({"genkey", "-"}, R"({"CN":"web","names":[{"O":"Old Org","L":"Here"}]})", dir.path());
    ASSERT_EQ(key.exit_code, 0) << key.err;
    testing::spit(dir / "web.csr", nlohmann::json::parse(key.out).at("csr").get<std::string>());
    testing::spit(dir / "subject.json", R"({"names":[{"O":"New Org","OU":"Ops"}],"serialnumber":"42"})");
    auto r = certgen({"sign", "-ca=ca.pem", "-ca-key=ca-key.pem", "-hostname=127.0.0.2", "web.csr", "subject.json"}, {},
                     dir.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    char buf[512];
    X509_NAME_oneline(X509_get_subject_name(cert_of(r).get()), buf, sizeof buf);
    EXPECT_STREQ(buf, "/L=Here/O=New Org/OU=Ops/CN=web/serialNumber=42");

    testing::spit(dir / "hosts.json", R"({"hosts":["x.example"]})");
    auto refused = certgen({"sign", "-ca=ca.pem", "-ca-key=ca-key.pem", "web.csr", "hosts.json"}, {}, dir.path());
    EXPECT_EQ(refused.exit_code, 1);
    EXPECT_NE(refused.err.find("12005"), std::string::npos) << refused.err;
}

TEST(Selfsign, MakesANonCaCertificateForTheHostnameAndWarns) {
    TempDir dir;
    auto r = certgen({"selfsign", "127.0.0.3,self.test", "-"}, R"({"CN":"self"})", dir.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("Self-signed certificates are dangerous"), std::string::npos);
    const auto c = cert_of(r);
    EXPECT_FALSE(c.is_ca());
    EXPECT_EQ(c.ip_addresses(), std::vector<std::string>{"127.0.0.3"});
    EXPECT_EQ(c.dns_names(), std::vector<std::string>{"self.test"});
    const auto hours = std::chrono::duration_cast<std::chrono::hours>(c.not_after() - c.not_before()).count();
    EXPECT_NEAR(hours, 2190, 1);  // cfssl's selfsign validity
}

TEST(Gencrl, RevokesTheListedSerials) {
    TempDir dir;
    make_ca(dir);
    auto leaf = certgen({"gencert", "-ca=ca.pem", "-ca-key=ca-key.pem", "-hostname=127.0.0.1", "-"},
                        guide_request("gone"), dir.path());
    ASSERT_EQ(leaf.exit_code, 0) << leaf.err;
    const std::string serial = cert_of(leaf).serial_decimal();
    testing::spit(dir / "serials.txt", serial + "\n\n12345\n");
    auto r = certgen({"gencrl", "serials.txt", "ca.pem", "ca-key.pem", "3600"}, {}, dir.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // Base64 DER on one line, as cfssl prints it; the openssl CLI reads it back.
    ASSERT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1);
    testing::spit(dir / "crl.b64", r.out);
    auto der = testing::run({"openssl", "base64", "-d", "-A", "-in", "crl.b64", "-out", "crl.der"}, {}, dir.path());
    ASSERT_EQ(der.exit_code, 0) << der.err;
    auto text = testing::run({"openssl", "crl", "-inform", "DER", "-in", "crl.der", "-noout", "-text"}, {}, dir.path());
    ASSERT_EQ(text.exit_code, 0) << text.err;
    EXPECT_NE(text.out.find("Issuer: CN = CA"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("Serial Number: 3039"), std::string::npos) << text.out;  // 12345
    auto verify = testing::run({"openssl", "crl", "-inform", "DER", "-in", "crl.der", "-CAfile", "ca.pem", "-noout"},
                               {}, dir.path());
    EXPECT_EQ(verify.exit_code, 0) << verify.err;
    EXPECT_NE(verify.err.find("verify OK"), std::string::npos) << verify.err;

    testing::spit(dir / "bad.txt", "12\nnot-a-serial\n");
    auto bad = certgen({"gencrl", "bad.txt", "ca.pem", "ca-key.pem"}, {}, dir.path());
    EXPECT_EQ(bad.exit_code, 1);
    EXPECT_EQ(error_code(bad), 12005) << bad.err;
    EXPECT_NE(bad.err.find("bad.txt:2"), std::string::npos) << bad.err;
}

// certinfo of a fresh certificate, with what is random or time-dependent masked.
TEST(Certinfo, GoldenWithSerialDatesAndKeysMasked) {
    TempDir dir;
    make_ca(dir, R"({"CN":"Golden CA","key":{"algo":"ecdsa","size":256},"names":[{"C":"DE","O":"Trellis"}]})");
    auto leaf = certgen({"gencert", "-ca=ca.pem", "-ca-key=ca-key.pem", "-hostname=127.0.0.1,golden.test", "-"},
                        R"({"CN":"golden","key":{"algo":"ecdsa","size":256},"names":[{"O":"Trellis","OU":"test"}]})",
                        dir.path());
    ASSERT_EQ(leaf.exit_code, 0) << leaf.err;
    testing::spit(dir / "leaf.pem", nlohmann::json::parse(leaf.out).at("cert").get<std::string>());
    auto info = certgen({"certinfo", "-cert", "leaf.pem"}, {}, dir.path());
    ASSERT_EQ(info.exit_code, 0) << info.err;
    auto j = nlohmann::json::parse(info.out);
    for (const char* random : {"serial_number", "not_before", "not_after", "pem", "authority_key_id", "subject_key_id"})
        if (j.contains(random)) j[random] = "<masked>";
    expect_golden("certinfo-leaf.json", j.dump(2) + "\n");

    auto from_stdin = certgen({"certinfo", "-cert", "-"}, testing::slurp(dir / "leaf.pem"), dir.path());
    ASSERT_EQ(from_stdin.exit_code, 0) << from_stdin.err;
    EXPECT_EQ(from_stdin.out, info.out);
}

TEST(Certinfo, DescribesACsr) {
    TempDir dir;
    auto key = certgen({"genkey", "-"}, R"({"CN":"req","hosts":["127.0.0.1","req.test"]})", dir.path());
    ASSERT_EQ(key.exit_code, 0) << key.err;
    testing::spit(dir / "req.csr", nlohmann::json::parse(key.out).at("csr").get<std::string>());
    auto info = certgen({"certinfo", "-csr=req.csr"}, {}, dir.path());
    ASSERT_EQ(info.exit_code, 0) << info.err;
    EXPECT_NE(info.out.find("req.test"), std::string::npos) << info.out;
    EXPECT_TRUE(nlohmann::json::accept(info.out)) << info.out;
}

TEST(PrintDefaults, CsrAndConfigAreGoldenAndUsable) {
    auto csr = certgen({"print-defaults", "csr"});
    ASSERT_EQ(csr.exit_code, 0) << csr.err;
    expect_golden("print-defaults-csr.json", csr.out);
    auto config = certgen({"print-defaults", "config"});
    ASSERT_EQ(config.exit_code, 0) << config.err;
    expect_golden("print-defaults-config.json", config.out);
    const auto policy = nlohmann::json::parse(config.out);
    for (const char* profile : {"peer", "server", "client"})
        EXPECT_TRUE(policy["signing"]["profiles"].contains(profile)) << profile;

    // What print-defaults offers, certgen accepts with --strict.
    TempDir dir;
    make_ca(dir);
    testing::spit(dir / "ca-config.json", config.out);
    testing::spit(dir / "req.json", csr.out);
    auto r = certgen({"gencert", "-strict", "-config", "ca-config.json", "-profile", "peer", "-ca", "ca.pem", "-ca-key",
                      "ca-key.pem", "req.json"},
                     {}, dir.path());
    EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(PrintDefaults, UnknownTypeIsAUsageError) {
    auto r = certgen({"print-defaults", "csv"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(error_code(r), 12006) << r.err;
}

TEST(Version, PrintsTheVersion) {
    auto r = certgen({"version"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "certgen version 0.1.0\n");
    auto j = certgen_json({"-version"});
    ASSERT_EQ(j.exit_code, 0) << j.err;
    EXPECT_NE(j.out.find("0.1.0"), std::string::npos);
}

TEST(Help, EverySubcommandTeachesWithExamples) {
    for (const std::string cmd : {"gencert", "genkey", "sign", "certinfo", "selfsign", "gencrl", "print-defaults"}) {
        for (const std::string flag : {"--help", "-help", "-h"}) {
            auto r = certgen({cmd, flag});
            EXPECT_EQ(r.exit_code, 0) << cmd << " " << flag << ": " << r.err;
            EXPECT_NE(r.out.find("Examples:"), std::string::npos) << cmd << " " << flag;
            EXPECT_NE(r.out.find("certgen " + cmd), std::string::npos) << cmd << " " << flag << r.out;
        }
    }
    auto top = certgen({"--help"});
    EXPECT_EQ(top.exit_code, 0);
    EXPECT_NE(top.out.find("gencert"), std::string::npos);
    auto json_help = certgen_json({"-help"});
    EXPECT_EQ(json_help.exit_code, 0);
    EXPECT_NE(json_help.out.find("-overwrite"), std::string::npos);
}

}  // namespace
}  // namespace trellis::certgen_test
