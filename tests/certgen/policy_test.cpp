// Issue 9 through the built tools: each signing rule and each hostile input gets its stable code
// (exit 1, nothing on stdout), side by side with Debian's cfssl 1.2 where cfssl implements the rule.
#include <gtest/gtest.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <chrono>

#include "helpers.hpp"
#include "pki/certificate.hpp"

namespace trellis::certgen_test {
namespace {

using testing::TempDir;

// One CA (certgen's) and a few configs shared by every case.
class Policy : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        dir_ = new TempDir();
        auto ca = certgen({"gencert", "-initca", "-"}, R"({"CN":"CA","key":{"algo":"ecdsa","size":256}})", dir());
        ASSERT_EQ(ca.exit_code, 0) << ca.err;
        ASSERT_EQ(certgen_json({"-bare", "ca"}, ca.out, dir()).exit_code, 0);
        // cfssl's remote-signer recipe: the default carries only the expiry and URLs.
        testing::spit(dir() / "recipe.json", R"({"signing":{
            "default":{"expiry":"8760h","issuer_urls":["http://127.0.0.1:8888/ca"],"crl_url":"http://127.0.0.1:8888/crl"},
            "profiles":{"client":{"expiry":"8760h","usages":["signing","client auth"]},
                        "intermediate":{"expiry":"8760h","usages":["cert sign","crl sign"],"ca_constraint":{"is_ca":true}},
                        "past":{"expiry":"8760h","usages":["cert sign","crl sign"],"ca_constraint":{"is_ca":true},
                                "not_before":"2020-01-01T00:00:00Z","not_after":"2021-01-01T00:00:00Z"},
                        "far":{"expiry":"8760h","usages":["signing","client auth"],
                               "not_before":"2300-01-02T03:04:05Z","not_after":"2400-01-02T03:04:05Z"},
                        "strict":{"expiry":"8760h","usages":["signing","client auth"],"name_whitelist":"^(a+)+$"}}}})");
    }
    static void TearDownTestSuite() { delete dir_; }
    static fs::path dir() { return dir_->path(); }

    static RunResult openssl(std::vector<std::string> args) {
        args.insert(args.begin(), "openssl");
        return testing::run(args, {}, dir(), 60);
    }
    // A PEM CSR made by openssl req with `extra` arguments.
    static std::string csr(const std::string& name, std::vector<std::string> extra) {
        std::vector<std::string> args{"req",         "-new",    "-newkey",         "rsa:2048",
                                      "-nodes",      "-keyout", name + "-key.pem", "-subj",
                                      "/CN=" + name, "-out",    name + ".csr"};
        args.insert(args.end(), extra.begin(), extra.end());
        const auto r = openssl(args);
        EXPECT_EQ(r.exit_code, 0) << r.err;
        return name + ".csr";
    }
    static void expect_code(const RunResult& r, int code, const std::string& what) {
        EXPECT_EQ(r.exit_code, 1) << what << ": " << r.err;
        EXPECT_EQ(error_code(r), code) << what << ": " << r.err;
        EXPECT_TRUE(r.out.empty()) << what << ": " << r.out;
    }
    static pki::Certificate cert_of(const RunResult& r) {
        const auto doc = nlohmann::json::parse(r.out);
        return pki::Certificate::from_pem(doc.at("cert").get<std::string>(), "output");
    }

    static TempDir* dir_;
};
TempDir* Policy::dir_ = nullptr;

const std::vector<std::string> kCa = {"-ca=ca.pem", "-ca-key=ca-key.pem", "-config=recipe.json"};
std::vector<std::string> with(std::string command, std::vector<std::string> more) {
    std::vector<std::string> args{std::move(command)};
    args.insert(args.end(), kCa.begin(), kCa.end());
    args.insert(args.end(), more.begin(), more.end());
    return args;
}

TEST_F(Policy, RemoteSignerRecipeWorksAndProfilesInheritUrls) {
    const std::string req = R"({"CN":"client-1","key":{"algo":"ecdsa","size":256}})";
    const auto ours = certgen(with("gencert", {"-profile=client", "-"}), req, dir());
    ASSERT_EQ(ours.exit_code, 0) << ours.err;
    const auto theirs = cfssl(with("gencert", {"-profile=client", "-"}), req, dir());
    ASSERT_EQ(theirs.exit_code, 0) << theirs.err;
    for (const auto* r : {&ours, &theirs}) {
        const auto cert = cert_of(*r);
        EXPECT_GE(X509_get_ext_by_NID(cert.get(), NID_info_access, -1), 0) << (r == &ours ? "certgen" : "cfssl");
        EXPECT_GE(X509_get_ext_by_NID(cert.get(), NID_crl_distribution_points, -1), 0);
    }
    // The default lists no usages: it cannot sign on its own.
    expect_code(certgen(with("gencert", {"-"}), req, dir()), 5004, "default without usages");
}

TEST_F(Policy, CaRequestUnderLeafProfileIsRefused) {
    const auto name = csr("wants-ca", {"-addext", "basicConstraints=critical,CA:TRUE"});
    expect_code(certgen(with("sign", {"-profile=client", name}), {}, dir()), 5007, "CA:TRUE under client");
    const auto theirs = cfssl(with("sign", {"-profile=client", name}), {}, dir());
    EXPECT_EQ(theirs.out.find("\"cert\""), std::string::npos) << "cfssl signed it: " << theirs.out;
    const auto ok = certgen(with("sign", {"-profile=intermediate", name}), {}, dir());
    ASSERT_EQ(ok.exit_code, 0) << ok.err;
    EXPECT_TRUE(cert_of(ok).is_ca());
}

TEST_F(Policy, IssuerWithPathLenZeroSignsNoCa) {
    auto root = certgen({"gencert", "-initca", "-"},
                        R"({"CN":"Zero","key":{"algo":"ecdsa","size":256},"ca":{"pathlenzero":true}})", dir());
    ASSERT_EQ(certgen_json({"-bare", "zero"}, root.out, dir()).exit_code, 0);
    expect_code(certgen({"gencert", "-ca=zero.pem", "-ca-key=zero-key.pem", "-config=recipe.json",
                         "-profile=intermediate", "-"},
                        R"({"CN":"sub"})", dir()),
                5007, "CA under pathLen 0");
}

TEST_F(Policy, WeakCsrSignaturesAreRefusedMd5LikeCfssl) {
    expect_code(certgen(with("sign", {"-profile=client", csr("md5", {"-md5"})}), {}, dir()), 9005, "MD5");
    expect_code(certgen(with("sign", {"-profile=client", csr("sha1", {"-sha1"})}), {}, dir()), 9005, "SHA-1");
    const auto theirs = cfssl(with("sign", {"-profile=client", "md5.csr"}), {}, dir());
    EXPECT_TRUE(theirs.out.find("\"cert\"") == std::string::npos) << "cfssl signed an MD5 CSR: " << theirs.out;
}

TEST_F(Policy, EmptyRequestIsCode1104) {
    expect_code(certgen(with("gencert", {"-profile=client", "-"}), "{}", dir()), 1104, "{} under a CA");
    expect_code(certgen({"gencert", "-initca", "-"}, "{}", dir()), 1104, "{} as a CA");
}

TEST_F(Policy, ExpiredCaIsCode1102) {
    // cfssl issues a CA valid only in the past; certgen refuses to sign with it.
    const auto past =
        cfssl(with("gencert", {"-profile=past", "-"}), R"({"CN":"Old","key":{"algo":"ecdsa","size":256}})", dir());
    ASSERT_EQ(past.exit_code, 0) << past.err;
    ASSERT_EQ(certgen_json({"-bare", "old"}, past.out, dir()).exit_code, 0);
    const auto r = certgen({"gencert", "-ca=old.pem", "-ca-key=old-key.pem", "-"}, R"({"CN":"x"})", dir());
    expect_code(r, 1102, "expired CA");
    EXPECT_NE(r.err.find("expired on 2021-01-01T00:00:00Z"), std::string::npos) << r.err;
    // And certgen will not make such a CA: what it prints is checked against its chain first.
    expect_code(certgen(with("gencert", {"-profile=past", "-"}), R"({"CN":"Old"})", dir()), 1101, "verify first");
}

TEST_F(Policy, CaSansAndRsaHashMatchCfssl) {
    const std::string req = R"({"CN":"Big CA","hosts":["ca.example","127.0.0.1"],"key":{"algo":"rsa","size":4096}})";
    for (const bool ours : {true, false}) {
        const auto r =
            ours ? certgen({"gencert", "-initca", "-"}, req, dir()) : cfssl({"gencert", "-initca", "-"}, req, dir());
        ASSERT_EQ(r.exit_code, 0) << r.err;
        const auto cert = cert_of(r);
        EXPECT_TRUE(cert.dns_names().empty()) << (ours ? "certgen" : "cfssl");
        EXPECT_EQ(X509_get_signature_nid(cert.get()), NID_sha512WithRSAEncryption) << (ours ? "certgen" : "cfssl");
    }
}

TEST_F(Policy, WhitelistIsLinearTimeLikeGo) {
    const std::string req = R"({"CN":")" + std::string(40, 'a') + R"(!","key":{"algo":"ecdsa","size":256}})";
    const auto start = std::chrono::steady_clock::now();
    expect_code(certgen(with("gencert", {"-profile=strict", "-"}), req, dir()), 5006, "^(a+)+$");
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
    const auto theirs = cfssl(with("gencert", {"-profile=strict", "-"}), req, dir());
    EXPECT_NE(theirs.exit_code, 0) << "cfssl accepted a name its whitelist refuses";
}

TEST_F(Policy, DatesBeyond2262AreExact) {
    const auto r =
        certgen(with("gencert", {"-profile=far", "-"}), R"({"CN":"far","key":{"algo":"ecdsa","size":256}})", dir());
    // The CA ends long before 2300, so the chain can never verify: certgen refuses to print it.
    expect_code(r, 1101, "leaf outside its CA");
    const auto self = certgen({"selfsign", "-config=recipe.json", "-profile=far", "127.0.0.1", "-"},
                              R"({"CN":"far","key":{"algo":"ecdsa","size":256}})", dir());
    ASSERT_EQ(self.exit_code, 0) << self.err;
    testing::spit(dir() / "far.pem", nlohmann::json::parse(self.out).at("cert").get<std::string>());
    const auto info = certgen({"certinfo", "-cert", "far.pem"}, {}, dir());
    ASSERT_EQ(info.exit_code, 0) << info.err;
    const auto doc = nlohmann::json::parse(info.out);
    EXPECT_EQ(doc.at("not_before"), "2300-01-02T03:04:05Z");
    EXPECT_EQ(doc.at("not_after"), "2400-01-02T03:04:05Z");
    testing::spit(dir() / "old-date.json",
                  R"({"signing":{"default":{"expiry":"1h","usages":["signing"],"not_after":"1012-01-02T03:04:05Z"}}})");
    const auto old =
        certgen({"gencert", "-ca=ca.pem", "-ca-key=ca-key.pem", "-config=old-date.json", "-"}, R"({"CN":"x"})", dir());
    expect_code(old, 5001, "year 1012");
    EXPECT_NE(old.err.find("1950-01-01"), std::string::npos) << old.err;
}

TEST_F(Policy, HostileJsonGetsStableCodes) {
    expect_code(certgen({"gencert", "-initca", "-"}, R"({"CN":"x","key":{"algo":"rsa","size":1e400}})", dir()), 12005,
                "1e400");
    expect_code(certgen({"gencert", "-initca", "-"}, R"({"CN":"x","CN":"y"})", dir()), 12007, "duplicate key");
    const auto cased = certgen({"gencert", "-initca", "-"}, R"({"Cn":"x"})", dir());
    expect_code(cased, 12003, "case variant");
    EXPECT_NE(cased.err.find("did you mean \"CN\""), std::string::npos) << cased.err;
    const std::string deep = std::string(100000, '[') + std::string(100000, ']');
    expect_code(certgen({"gencert", "-initca", "-"}, deep, dir()), 12008, "deep");
}

TEST_F(Policy, PathArgumentsAreBoundedRegularFiles) {
    expect_code(certgen({"gencert", "-initca", "/dev/zero"}, {}, dir()), 13001, "/dev/zero");
    ASSERT_EQ(::mkfifo((dir() / "fifo").c_str(), 0600), 0);
    const auto start = std::chrono::steady_clock::now();
    expect_code(certgen({"gencert", "-initca", "fifo"}, {}, dir()), 13001, "FIFO");
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
    ASSERT_EQ(testing::run({"truncate", "-s", "40M", "big.json"}, {}, dir()).exit_code, 0);
    expect_code(certgen({"gencert", "-initca", "big.json"}, {}, dir()), 13005, "40 MB");
}

TEST_F(Policy, CertinfoOfHostileCsrsDoesNotCrash) {
    expect_code(
        certgen({"certinfo", "-csr", testing::data_path("certgen/csr-undecodable-key.pem").string()}, {}, dir()), 9003,
        "undecodable key");
    expect_code(certgen({"certinfo", "-csr", testing::data_path("certgen/csr-huge-oid-arc.pem").string()}, {}, dir()),
                9003, "OID arc above 2^63");
}

TEST_F(Policy, LongValuesAreQuotedShortAndEscaped) {
    const std::string value = "x\\n\\u0001" + std::string(1 << 20, 'y');  // JSON escapes: a newline, a ^A
    const auto r = certgen({"gencert", "-initca", "-"}, R"({"CN":"x","key":{"algo":")" + value + R"("}})", dir());
    EXPECT_EQ(r.exit_code, 1) << r.err.substr(0, 300);
    EXPECT_EQ(error_code(r), 2102) << r.err.substr(0, 300);
    EXPECT_LT(r.err.size(), 1000u) << r.err.substr(0, 300);
    EXPECT_NE(r.err.find("x\\n\\x01yyy"), std::string::npos) << r.err.substr(0, 300);  // escaped: one line
}

}  // namespace
}  // namespace trellis::certgen_test
