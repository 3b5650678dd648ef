#include "pki/certinfo.hpp"

#include <gtest/gtest.h>

#include <regex>

#include "helpers.hpp"
#include "support.hpp"

namespace trellis::pki {
namespace {

const std::regex kKeyId("^([0-9A-F]{2}:){19}[0-9A-F]{2}$");
const std::regex kTime("^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z$");

struct Fixture {
    test::TestCa ca =
        test::make_ca(R"({"CN":"Info CA","key":{"algo":"rsa","size":2048},"names":[{"C":"DE","O":"Trellis"}]})");
    Issued leaf;
    Fixture() {
        Warnings w;
        leaf = issue(test::request_json(R"({"CN":"info","hosts":["127.0.0.7","info.example","ops@example.com"],
            "names":[{"C":"US","ST":"CA","L":"SF","O":"Org","OU":"Unit"}]})"),
                     ca.signer, test::profile_with({"signing", "server auth"}), {}, w);
    }
};

TEST(CertInfo, HasCfsslsShape) {
    const Fixture f;
    const Certificate cert = Certificate::from_pem(f.leaf.cert, "leaf");
    const nlohmann::json info = certificate_info(cert);
    EXPECT_EQ(info["subject"]["common_name"], "info");
    EXPECT_EQ(info["subject"]["country"], "US");
    EXPECT_EQ(info["subject"]["province"], "CA");
    EXPECT_EQ(info["subject"]["locality"], "SF");
    EXPECT_EQ(info["subject"]["organization"], "Org");
    EXPECT_EQ(info["subject"]["organizational_unit"], "Unit");
    EXPECT_EQ(info["subject"]["names"], (nlohmann::json{"US", "CA", "SF", "Org", "Unit", "info"}));
    EXPECT_EQ(info["issuer"]["common_name"], "Info CA");
    EXPECT_EQ(info["issuer"]["organization"], "Trellis");
    EXPECT_EQ(info["serial_number"], cert.serial_decimal());
    EXPECT_EQ(info["sans"], (nlohmann::json{"info.example", "127.0.0.7", "ops@example.com"}));
    EXPECT_TRUE(std::regex_match(info["not_before"].get<std::string>(), kTime)) << info["not_before"];
    EXPECT_TRUE(std::regex_match(info["not_after"].get<std::string>(), kTime)) << info["not_after"];
    EXPECT_EQ(info["sigalg"], "SHA256WithRSA");
    EXPECT_TRUE(std::regex_match(info["authority_key_id"].get<std::string>(), kKeyId));
    EXPECT_TRUE(std::regex_match(info["subject_key_id"].get<std::string>(), kKeyId));
    EXPECT_EQ(info["authority_key_id"], certificate_info(f.ca.signer.certificate())["subject_key_id"]);
    EXPECT_EQ(info["pem"], f.leaf.cert);
}

// The real peer: Debian's cfssl reads our certificate and must describe it the same way.
TEST(CertInfo, MatchesCfsslCertinfo) {
    const Fixture f;
    trellis::testing::TempDir dir;
    trellis::testing::spit(dir / "leaf.pem", f.leaf.cert);
    const auto r = trellis::testing::run({"cfssl", "certinfo", "-cert", (dir / "leaf.pem").string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const nlohmann::json theirs = nlohmann::json::parse(r.out);
    const nlohmann::json ours = certificate_info(Certificate::from_pem(f.leaf.cert, "leaf"));
    for (const char* key : {"subject", "issuer", "serial_number", "not_before", "not_after", "sigalg", "pem"})
        EXPECT_EQ(ours[key], theirs[key]) << key;
    // cfssl 1.2 prints key id bytes with %X ("FE:4:6E"); we always print two digits, as later cfssl does.
    const auto unpadded = [](std::string id) {
        return std::regex_replace(":" + id, std::regex(":0([0-9A-F])"), ":$1").substr(1);
    };
    for (const char* key : {"authority_key_id", "subject_key_id"})
        EXPECT_EQ(unpadded(ours[key].get<std::string>()), theirs[key].get<std::string>()) << key;
    // cfssl 1.2 lists only DNS names and IPs; we append emails and URIs after them.
    EXPECT_EQ(ours["sans"][0], theirs["sans"][0]);
    EXPECT_EQ(ours["sans"][1], theirs["sans"][1]);
}

TEST(CertInfo, DescribesCsrsLikeGosCertificateRequest) {
    Warnings w;
    const Issued kc = generate_key(test::request_json(R"({"CN":"x","hosts":["a.example","127.0.0.1"]})"), w);
    const nlohmann::json info = csr_info(Csr::from_pem(kc.csr, "x.csr"));
    EXPECT_EQ(info["Subject"]["CommonName"], "x");
    EXPECT_EQ(info["Subject"]["Names"][0]["Type"], (nlohmann::json{2, 5, 4, 3}));
    EXPECT_EQ(info["DNSNames"], nlohmann::json{"a.example"});
    EXPECT_EQ(info["IPAddresses"], nlohmann::json{"127.0.0.1"});
    EXPECT_TRUE(info["EmailAddresses"].is_null());
    EXPECT_EQ(info["SignatureAlgorithm"], 10);  // ECDSAWithSHA256
    EXPECT_EQ(info["PublicKeyAlgorithm"], 3);   // ECDSA
    EXPECT_EQ(info["Version"], 0);
    EXPECT_EQ(info["Extensions"][0]["Id"], (nlohmann::json{2, 5, 29, 17}));

    // Debian's cfssl prints the same values for the members we share.
    trellis::testing::TempDir dir;
    trellis::testing::spit(dir / "x.csr", kc.csr);
    const auto r = trellis::testing::run({"cfssl", "certinfo", "-csr", (dir / "x.csr").string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const nlohmann::json theirs = nlohmann::json::parse(r.out);
    for (const char* key :
         {"Raw", "RawTBSCertificateRequest", "RawSubjectPublicKeyInfo", "RawSubject", "Version", "Signature",
          "SignatureAlgorithm", "PublicKeyAlgorithm", "Extensions", "DNSNames", "IPAddresses"})
        EXPECT_EQ(info[key], theirs[key]) << key;
    EXPECT_EQ(info["Subject"]["CommonName"], theirs["Subject"]["CommonName"]);
    EXPECT_EQ(info["Subject"]["Names"], theirs["Subject"]["Names"]);
}

}  // namespace
}  // namespace trellis::pki
