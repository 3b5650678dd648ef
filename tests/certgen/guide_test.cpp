// The guide's five certificates through certgen | certgen-json, verbatim: the
// same files with the right modes, the JSON cfssl prints, and certificates that
// say what the guide needs (a CA, peers with the node's IPs, a client).
#include <gtest/gtest.h>
#include <openssl/x509v3.h>

#include <regex>

#include "helpers.hpp"
#include "pki/certificate.hpp"
#include "pki/verify.hpp"

namespace trellis::certgen_test {
namespace {

using testing::TempDir;

// The guide's script with cfssl -> certgen and cfssljson -> certgen-json.
std::string guide_with_certgen() {
    std::string script = testing::slurp(testing::data_path("certgen/guide-cfssl.sh"));
    script = std::regex_replace(script, std::regex("cfssljson"), "certgen-json");
    return std::regex_replace(script, std::regex("cfssl gencert"), "certgen gencert");
}

class GuideTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        dir_ = new TempDir();
        result_ = new RunResult(shell(guide_with_certgen(), dir_->path()));
    }
    static void TearDownTestSuite() {
        delete result_;
        delete dir_;
    }
    static pki::Certificate cert(const std::string& name) {
        return pki::Certificate::from_pem(testing::slurp(dir_->path() / (name + ".pem")), name);
    }
    static TempDir* dir_;
    static RunResult* result_;
};
TempDir* GuideTest::dir_ = nullptr;
RunResult* GuideTest::result_ = nullptr;

TEST_F(GuideTest, RunsVerbatimAndMakesExactlyTheGuidesFiles) {
    ASSERT_EQ(result_->exit_code, 0) << result_->err;
    const std::vector<std::string> expected{"backend-1-key.pem",
                                            "backend-1.csr",
                                            "backend-1.pem",
                                            "backend-2-key.pem",
                                            "backend-2.csr",
                                            "backend-2.pem",
                                            "backend-3-key.pem",
                                            "backend-3.csr",
                                            "backend-3.pem",
                                            "ca-config.json",
                                            "ca-key.pem",
                                            "ca.csr",
                                            "ca.pem",
                                            "client-key.pem",
                                            "client.csr",
                                            "client.pem"};
    EXPECT_EQ(dir_entries(dir_->path()), expected);  // the guide's list, and no temp files left
}

TEST_F(GuideTest, KeysAre0600AndCertsAndCsrsAre0644) {
    ASSERT_EQ(result_->exit_code, 0) << result_->err;
    for (const std::string name : {"ca", "backend-1", "backend-2", "backend-3", "client"}) {
        EXPECT_EQ(file_mode(dir_->path() / (name + "-key.pem")), 0600u) << name;
        EXPECT_EQ(file_mode(dir_->path() / (name + ".pem")), 0644u) << name;
        EXPECT_EQ(file_mode(dir_->path() / (name + ".csr")), 0644u) << name;
    }
}

TEST_F(GuideTest, WarnsOnStderrAboutTheMissingPeerProfileAndTheBlankHost) {
    ASSERT_EQ(result_->exit_code, 0) << result_->err;
    EXPECT_NE(result_->err.find("certgen: warning:"), std::string::npos) << result_->err;
    EXPECT_NE(result_->err.find("peer"), std::string::npos) << result_->err;
    EXPECT_TRUE(result_->out.empty()) << result_->out;  // certgen-json wrote files, printed nothing
}

TEST_F(GuideTest, CaIsACaAndPeersCarryTheirAddresses) {
    ASSERT_EQ(result_->exit_code, 0) << result_->err;
    const auto ca = cert("ca");
    EXPECT_TRUE(ca.is_ca());
    EXPECT_EQ(ca.common_name(), "CA");
    for (int i = 1; i <= 3; ++i) {
        const std::string name = "backend-" + std::to_string(i);
        const auto peer = cert(name);
        EXPECT_FALSE(peer.is_ca());
        EXPECT_EQ(peer.common_name(), name);
        EXPECT_EQ(peer.dns_names(), std::vector<std::string>{name});  // "" dropped, never an empty DNS SAN
        const std::vector<std::string> ips{"10.0.0." + std::to_string(i), "127.0.0.1", "::"};
        EXPECT_EQ(peer.ip_addresses(), ips);
        EXPECT_TRUE(peer.has_ext_key_usage(NID_server_auth));
        EXPECT_TRUE(peer.has_ext_key_usage(NID_client_auth));
        EXPECT_TRUE(peer.covers_host("127.0.0.1"));
        pki::VerifyRequest req{peer, {}, {ca}, pki::Purpose::ServerAuth, std::string("127.0.0.1"), std::nullopt};
        EXPECT_TRUE(pki::verify_with_openssl(req).ok) << pki::verify_with_openssl(req).error;
        EXPECT_TRUE(pki::verify_with_botan(req).ok) << pki::verify_with_botan(req).error;
    }
    const auto client = cert("client");
    EXPECT_EQ(client.common_name(), "client");
    EXPECT_TRUE(client.dns_names().empty());
    EXPECT_TRUE(client.ip_addresses().empty());
    pki::VerifyRequest req{client, {}, {ca}, pki::Purpose::ClientAuth, std::nullopt, std::nullopt};
    EXPECT_TRUE(pki::verify_with_openssl(req).ok) << pki::verify_with_openssl(req).error;
    EXPECT_TRUE(pki::verify_with_botan(req).ok) << pki::verify_with_botan(req).error;
}

TEST_F(GuideTest, KeysMatchTheirCertificates) {
    ASSERT_EQ(result_->exit_code, 0) << result_->err;
    for (const std::string name : {"ca", "backend-1", "backend-2", "backend-3", "client"}) {
        const auto key = pki::PrivateKey::from_pem(testing::slurp(dir_->path() / (name + "-key.pem")), name);
        EXPECT_TRUE(cert(name).matches(key)) << name;
        EXPECT_EQ(key.describe().algo, pki::KeyAlgorithm::Rsa);
        EXPECT_EQ(key.describe().size, 2048);
    }
}

TEST_F(GuideTest, RerunningTheGuideIsAllowedButADifferentFileIsNotOverwritten) {
    ASSERT_EQ(result_->exit_code, 0) << result_->err;
    // Same output again (identical bytes) is fine: certgen-json with the files it wrote.
    const std::string ca_json = R"({"cert":)" + nlohmann::json(testing::slurp(dir_->path() / "ca.pem")).dump() + "}";
    auto same = certgen_json({"-bare", "ca"}, ca_json, dir_->path());
    EXPECT_EQ(same.exit_code, 0) << same.err;
    // A fresh CA would replace the user's: refused without -overwrite.
    const std::string before = testing::slurp(dir_->path() / "ca-key.pem");
    auto fresh = certgen({"gencert", "-initca", "-"}, kCaRequest);
    ASSERT_EQ(fresh.exit_code, 0) << fresh.err;
    auto refused = certgen_json({"-bare", "ca"}, fresh.out, dir_->path());
    EXPECT_EQ(refused.exit_code, 1);
    EXPECT_EQ(error_code(refused), 13003) << refused.err;
    EXPECT_NE(refused.err.find("-overwrite"), std::string::npos);
    EXPECT_EQ(testing::slurp(dir_->path() / "ca-key.pem"), before);
}

TEST(GencertOutput, IsOneLineOfJsonWithKeysCertCsrKeySorted) {
    TempDir dir;
    auto ca = certgen({"gencert", "-initca", "-"}, kCaRequest, dir.path());
    ASSERT_EQ(ca.exit_code, 0) << ca.err;
    ASSERT_EQ(std::count(ca.out.begin(), ca.out.end(), '\n'), 1) << ca.out;
    ASSERT_EQ(ca.out.back(), '\n');
    EXPECT_EQ(ca.out.rfind(R"({"cert":"-----BEGIN CERTIFICATE-----\n)", 0), 0u) << ca.out.substr(0, 60);
    const auto j = nlohmann::json::parse(ca.out);
    std::vector<std::string> keys;
    for (const auto& [k, _] : j.items()) keys.push_back(k);
    EXPECT_EQ(keys, (std::vector<std::string>{"cert", "csr", "key"}));
    const auto cert_at = ca.out.find("\"cert\""), csr_at = ca.out.find("\"csr\""), key_at = ca.out.find("\"key\"");
    EXPECT_LT(cert_at, csr_at);
    EXPECT_LT(csr_at, key_at);
    EXPECT_NE(j["key"].get<std::string>().find("-----BEGIN RSA PRIVATE KEY-----"), std::string::npos);
    EXPECT_NE(j["csr"].get<std::string>().find("-----BEGIN CERTIFICATE REQUEST-----"), std::string::npos);
}

TEST(GencertFlags, GoAndGnuSpellingsAreTheSame) {
    TempDir dir;
    auto ca = certgen({"gencert", "-initca", "-"}, kCaRequest, dir.path());
    ASSERT_EQ(ca.exit_code, 0) << ca.err;
    ASSERT_EQ(certgen_json({"-bare", "ca"}, ca.out, dir.path()).exit_code, 0);
    const std::vector<std::vector<std::string>> spellings{
        {"gencert", "-ca=ca.pem", "-ca-key=ca-key.pem", "-hostname=127.0.0.1,node", "-"},
        {"gencert", "-ca", "ca.pem", "-ca-key", "ca-key.pem", "-hostname", "127.0.0.1,node", "-"},
        {"gencert", "--ca=ca.pem", "--ca-key", "ca-key.pem", "--hostname=127.0.0.1,node", "-"},
        {"gencert", "-ca", "file:ca.pem", "-ca-key=file:ca-key.pem", "-hostname", "127.0.0.1,node", "-"},
    };
    for (const auto& args : spellings) {
        auto r = certgen(args, guide_request("node"), dir.path());
        ASSERT_EQ(r.exit_code, 0) << r.err;
        const auto c = pki::Certificate::from_pem(nlohmann::json::parse(r.out)["cert"].get<std::string>(), "out");
        EXPECT_EQ(c.ip_addresses(), std::vector<std::string>{"127.0.0.1"});
        EXPECT_EQ(c.dns_names(), std::vector<std::string>{"node"});
    }
}

TEST(GencertFlags, CaFromEnvironmentAndCnOverride) {
    TempDir dir;
    auto ca = certgen({"gencert", "-initca", "-"}, kCaRequest, dir.path());
    ASSERT_EQ(ca.exit_code, 0) << ca.err;
    const auto j = nlohmann::json::parse(ca.out);
    const std::string script = "export CA_CERT=\"$(cat ca.pem)\" CA_KEY=\"$(cat ca-key.pem)\"; echo '" +
                               guide_request("x") +
                               "' | certgen gencert -ca env:CA_CERT -ca-key env:CA_KEY -cn renamed -";
    testing::spit(dir / "ca.pem", j["cert"].get<std::string>());
    testing::spit(dir / "ca-key.pem", j["key"].get<std::string>());
    auto r = shell(script, dir.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto c = pki::Certificate::from_pem(nlohmann::json::parse(r.out)["cert"].get<std::string>(), "out");
    EXPECT_EQ(c.common_name(), "renamed");
}

TEST(GencertFlags, StrictMakesTheGuidesMissingProfileAnError) {
    TempDir dir;
    auto ca = certgen({"gencert", "-initca", "-"}, kCaRequest, dir.path());
    ASSERT_EQ(certgen_json({"-bare", "ca"}, ca.out, dir.path()).exit_code, 0);
    testing::spit(dir / "ca-config.json", kCaConfig);
    auto r = certgen(
        {"gencert", "--strict", "-config=ca-config.json", "-ca=ca.pem", "-ca-key=ca-key.pem", "-profile=peer", "-"},
        guide_request("backend-1"), dir.path());
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(error_code(r), 5002) << r.err;
    EXPECT_TRUE(r.out.empty());
    auto lenient =
        certgen({"gencert", "-config=ca-config.json", "-ca=ca.pem", "-ca-key=ca-key.pem", "-profile=peer", "-"},
                guide_request("backend-1"), dir.path());
    EXPECT_EQ(lenient.exit_code, 0) << lenient.err;
    EXPECT_NE(lenient.err.find("warning"), std::string::npos);
    EXPECT_NE(lenient.err.find("peer"), std::string::npos);
    EXPECT_EQ(lenient.out.find("warning"), std::string::npos);
}

TEST(EncryptedKeys, GencertWritesAnEncryptedKeyAndSigningReadsIt) {
    TempDir dir;
    testing::spit(dir / "ca.pass", "correct horse battery staple\n");
    auto ca = certgen({"gencert", "-initca", "-key-passphrase-file", "ca.pass", "-"}, kCaRequest, dir.path());
    ASSERT_EQ(ca.exit_code, 0) << ca.err;
    ASSERT_EQ(certgen_json({"-bare", "ca"}, ca.out, dir.path()).exit_code, 0);
    EXPECT_NE(testing::slurp(dir / "ca-key.pem").find("ENCRYPTED PRIVATE KEY"), std::string::npos);
    EXPECT_EQ(file_mode(dir / "ca-key.pem"), 0600u);

    auto no_pass = certgen({"gencert", "-ca=ca.pem", "-ca-key=ca-key.pem", "-"}, guide_request("n"), dir.path());
    EXPECT_EQ(no_pass.exit_code, 1);
    EXPECT_EQ(error_code(no_pass), 2100) << no_pass.err;

    testing::spit(dir / "wrong.pass", "wrong\n");
    auto wrong = certgen({"gencert", "-ca=ca.pem", "-ca-key=ca-key.pem", "-ca-key-passphrase-file=wrong.pass", "-"},
                         guide_request("n"), dir.path());
    EXPECT_EQ(wrong.exit_code, 1);
    EXPECT_EQ(error_code(wrong), 2101) << wrong.err;

    const std::string script =
        "CA_PASS='correct horse battery staple' certgen gencert -ca=ca.pem -ca-key=ca-key.pem "
        "-ca-key-passphrase-env=CA_PASS -hostname=127.0.0.1 - <<< '" +
        guide_request("n") + "' | certgen-json -bare n";
    auto ok = shell(script, dir.path());
    ASSERT_EQ(ok.exit_code, 0) << ok.err;
    const auto n = pki::Certificate::from_pem(testing::slurp(dir / "n.pem"), "n.pem");
    const auto ca_cert = pki::Certificate::from_pem(testing::slurp(dir / "ca.pem"), "ca.pem");
    pki::VerifyRequest req{n, {}, {ca_cert}, pki::Purpose::Any, std::nullopt, std::nullopt};
    EXPECT_TRUE(pki::verify_with_openssl(req).ok) << pki::verify_with_openssl(req).error;
}

}  // namespace
}  // namespace trellis::certgen_test
