// Issue 9's signing rules, one test per rule: what cfssl refuses is refused with a stable code and a
// message naming the rule; where cfssl is right (CA SANs, hash choice, inheritance) we match it; and
// the parsers never turn input into an internal error.
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <string>

#include "core/strict_json.hpp"
#include "helpers.hpp"
#include "pki/certinfo.hpp"
#include "pki/policy.hpp"

namespace trellis::pki {
namespace {

using namespace std::chrono_literals;
using test::throws_code;

// A PEM CSR for a fresh RSA-2048 key, signed with `md`, asking for CA:TRUE when `ca`.
std::string make_csr(const EVP_MD* md, bool ca, const std::string& cn = "req") {
    EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048});
    X509_REQ* req = X509_REQ_new();
    X509_REQ_set_pubkey(req, key);
    X509_NAME* name = X509_REQ_get_subject_name(req);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.data()),
                               static_cast<int>(cn.size()), -1, 0);
    if (ca) {
        STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
        sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(nullptr, nullptr, NID_basic_constraints, "critical,CA:TRUE"));
        X509_REQ_add_extensions(req, exts);
        sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    }
    X509_REQ_sign(req, key, md);
    EVP_PKEY_free(key);
    return Csr(req).pem();
}

Profile ca_profile() {
    Profile p = test::profile_with({"cert sign", "crl sign"});
    p.is_ca = true;
    return p;
}

TEST(PolicyRules, CaRequestNeedsACaProfile) {
    const auto ca = test::make_ca();
    Warnings w;
    const std::string csr = make_csr(EVP_sha256(), true);
    const Profile leaf = test::profile_with({"signing", "server auth"});
    const std::string why = test::error_message([&] { sign_csr(csr, "ca.csr", ca.signer, leaf, {}, w); });
    EXPECT_TRUE(throws_code([&] { sign_csr(csr, "ca.csr", ca.signer, leaf, {}, w); }, Code::PolicyCaNotAllowed));
    EXPECT_NE(why.find("ca_constraint.is_ca"), std::string::npos) << why;
    const auto cert = Certificate::from_pem(sign_csr(csr, "ca.csr", ca.signer, ca_profile(), {}, w), "c");
    EXPECT_TRUE(cert.is_ca());
}

TEST(PolicyRules, IssuerWithPathLenZeroSignsNoCa) {
    const auto root = test::make_ca(R"({"CN":"Root","key":{"algo":"ecdsa","size":256},"ca":{"pathlenzero":true}})");
    Warnings w;
    EXPECT_TRUE(throws_code([&] { sign_csr(make_csr(EVP_sha256(), true), "x", root.signer, ca_profile(), {}, w); },
                            Code::PolicyCaNotAllowed));
    // A CA profile makes a CA even from a plain request: the issuer's constraint still holds.
    EXPECT_TRUE(throws_code([&] { issue(test::request_json(R"({"CN":"sub"})"), root.signer, ca_profile(), {}, w); },
                            Code::PolicyCaNotAllowed));
    // Leaves are what a pathLen-0 CA is for.
    EXPECT_NO_THROW(sign_csr(make_csr(EVP_sha256(), false), "x", root.signer,
                             test::profile_with({"signing", "client auth"}), {}, w));
    // pathLen 2 lets a CA with pathLen 1 through, not one with pathLen 2.
    const auto two = test::make_ca(R"({"CN":"Two","key":{"algo":"ecdsa","size":256},"ca":{"pathlen":2}})");
    Profile p = ca_profile();
    p.max_path_len = 1;
    EXPECT_NO_THROW(issue(test::request_json(R"({"CN":"sub1"})"), two.signer, p, {}, w));
    p.max_path_len = 2;
    EXPECT_TRUE(throws_code([&] { issue(test::request_json(R"({"CN":"sub2"})"), two.signer, p, {}, w); },
                            Code::PolicyCaNotAllowed));
}

TEST(PolicyRules, Md5AndSha1SignedRequestsAreRefused) {
    const auto ca = test::make_ca();
    Warnings w;
    const Profile p = test::profile_with({"signing", "client auth"});
    for (const EVP_MD* md : {EVP_md5(), EVP_sha1()}) {
        const std::string csr = make_csr(md, false);
        EXPECT_TRUE(throws_code([&] { sign_csr(csr, "weak.csr", ca.signer, p, {}, w); }, Code::CsrWeakSignature))
            << EVP_MD_get0_name(md);
    }
    EXPECT_NO_THROW(sign_csr(make_csr(EVP_sha384(), false), "ok.csr", ca.signer, p, {}, w));
}

TEST(PolicyRules, NoSubjectAndNoSanIsABadRequest) {
    const auto ca = test::make_ca();
    Warnings w;
    const auto empty = test::request_json("{}");
    const Profile p = test::profile_with({"signing", "client auth"});
    EXPECT_TRUE(throws_code([&] { issue(empty, ca.signer, p, {}, w); }, Code::CertBadRequest));
    EXPECT_TRUE(throws_code([&] { self_sign(empty, p, w); }, Code::CertBadRequest));
    EXPECT_TRUE(throws_code([&] { init_ca(empty, w); }, Code::CertBadRequest));
    // A CA keeps no DNS name, so a CA request with only DNS hosts names nothing either.
    EXPECT_TRUE(
        throws_code([&] { init_ca(test::request_json(R"({"hosts":["ca.example"]})"), w); }, Code::CertBadRequest));
    // One SAN is enough for a leaf.
    EXPECT_NO_THROW(issue(test::request_json(R"({"hosts":["127.0.0.1"]})"), ca.signer, p, {}, w));
}

TEST(PolicyRules, ExpiredOrNotYetValidCaDoesNotSign) {
    const auto root = test::make_ca();
    Warnings w;
    const auto sub_key = PrivateKey::generate({KeyAlgorithm::Ecdsa, 256});
    const auto sub_with = [&](Time from, Time to) {
        Profile p = ca_profile();
        p.not_before = from;
        p.not_after = to;
        const auto issued = issue_with_key(test::request_json(R"({"CN":"Sub"})"), sub_key, root.signer, p, {}, w);
        return Signer(Certificate::from_pem(issued.cert, "sub.pem"), PrivateKey::from_pem(sub_key.pem(), "k"));
    };
    const Time now = std::chrono::floor<std::chrono::seconds>(Clock::now());
    const Profile leaf = test::profile_with({"signing", "client auth"});
    const auto expired = sub_with(now - 48h, now - 24h);
    const auto future = sub_with(now + 24h, now + 48h);
    const std::string why =
        test::error_message([&] { issue(test::request_json(R"({"CN":"x"})"), expired, leaf, {}, w); });
    EXPECT_NE(why.find("expired on"), std::string::npos) << why;
    EXPECT_TRUE(
        throws_code([&] { issue(test::request_json(R"({"CN":"x"})"), expired, leaf, {}, w); }, Code::CertExpired));
    EXPECT_TRUE(
        throws_code([&] { sign_csr(make_csr(EVP_sha256(), false), "x", future, leaf, {}, w); }, Code::CertExpired));
}

TEST(PolicyRules, CaCertificatesCarryNoDnsOrEmailSans) {
    Warnings w;
    const auto issued =
        init_ca(test::request_json(R"({"CN":"CA","hosts":["ca.example","ops@example.org","127.0.0.1"]})"), w);
    const auto cert = Certificate::from_pem(issued.cert, "ca.pem");
    EXPECT_TRUE(cert.dns_names().empty());
    EXPECT_EQ(cert.ip_addresses(), std::vector<std::string>{"127.0.0.1"});
    ASSERT_FALSE(w.empty());
    EXPECT_NE(w.back().find("as cfssl does"), std::string::npos) << w.back();
    // The same for an intermediate signed under a CA profile.
    const auto root = test::make_ca();
    const auto sub = issue(test::request_json(R"({"CN":"Sub","hosts":["sub.example","10.0.0.1"]})"), root.signer,
                           ca_profile(), {}, w);
    EXPECT_TRUE(Certificate::from_pem(sub.cert, "sub").dns_names().empty());
}

// The RSA hash thresholds are Issue.SignatureDigestFollowsTheIssuerKey (issue_test.cpp).

TEST(PolicyRules, NamedProfilesInheritUrlsFromDefault) {
    // cfssl's remote-signer recipe: a default with only an expiry (and URLs), complete named profiles.
    const auto policy = parse_signing_policy(R"({"signing":{
        "default":{"expiry":"720h","issuer_urls":["http://127.0.0.1/ca"],"ocsp_url":"http://127.0.0.1/ocsp",
                   "crl_url":"http://127.0.0.1/crl"},
        "profiles":{"client":{"expiry":"720h","usages":["signing","client auth"]},
                    "own":{"usages":["signing"],"expiry":"1h","crl_url":"http://127.0.0.2/crl"}}}})",
                                             "ca-config.json");
    Warnings w;
    const Profile& client = policy.profile("client", true, w);
    EXPECT_EQ(client.expiry, 720h);
    EXPECT_EQ(client.issuer_urls, std::vector<std::string>{"http://127.0.0.1/ca"});
    EXPECT_EQ(client.ocsp_url, "http://127.0.0.1/ocsp");
    EXPECT_EQ(client.crl_url, "http://127.0.0.1/crl");
    const Profile& own = policy.profile("own", true, w);
    EXPECT_EQ(own.expiry, 1h);
    EXPECT_EQ(own.crl_url, "http://127.0.0.2/crl");
    // The default has no usages: it may not sign.
    EXPECT_TRUE(throws_code([&] { (void)policy.profile("", true, w); }, Code::PolicyNoUsages));
    EXPECT_TRUE(throws_code([&] { (void)policy.profile("nope", false, w); }, Code::PolicyNoUsages));
    // A named profile still needs usages, and (as in cfssl) its own expiry.
    EXPECT_TRUE(throws_code(
        [] { parse_signing_policy(R"({"signing":{"default":{"expiry":"1h"},"profiles":{"x":{}}}})", "c.json"); },
        Code::PolicyNoUsages));
    EXPECT_TRUE(throws_code(
        [] {
            parse_signing_policy(R"({"signing":{"default":{"expiry":"1h"},"profiles":{"x":{"usages":["signing"]}}}})",
                                 "c.json");
        },
        Code::PolicyBadDuration));
}

TEST(PolicyRules, CaseVariantsAndDuplicateKeysAreNamed) {
    const std::string usages = test::error_message(
        [] { parse_signing_policy(R"({"signing":{"default":{"expiry":"1h","Usages":["signing"]}}})", "c.json"); });
    EXPECT_NE(usages.find("signing.default.Usages: unknown key (did you mean \"usages\"?)"), std::string::npos)
        << usages;
    EXPECT_TRUE(throws_code([] { parse_signing_policy(R"({"Signing":{}})", "c.json"); }, Code::InputUnknownKey));
    EXPECT_TRUE(throws_code([] { test::request_json(R"({"cn":"x"})"); }, Code::InputUnknownKey));
    EXPECT_TRUE(throws_code(
        [] {
            parse_signing_policy(R"({"signing":{"default":{"expiry":"1h","expiry":"2h","usages":["signing"]}}})",
                                 "c.json");
        },
        Code::InputDuplicateKey));
    EXPECT_NO_THROW(parse_json(R"({"a":{"b":1},"c":{"b":2}})", "x"));  // the same key in two objects is fine
}

TEST(PolicyRules, NameWhitelistIsRe2OverCnDnsAndEmail) {
    const auto ca = test::make_ca();
    Profile p = test::profile_with({"signing", "client auth"});
    p.name_whitelist = "^(a+)+$";
    Warnings w;
    // Catastrophic for a backtracking engine; RE2 answers at once.
    const auto start = std::chrono::steady_clock::now();
    EXPECT_TRUE(throws_code(
        [&] { issue(test::request_json(R"({"CN":")" + std::string(40, 'a') + R"(!"})"), ca.signer, p, {}, w); },
        Code::PolicyNameNotAllowed));
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
    // IP SANs are not names cfssl checks; email SANs are.
    p.name_whitelist = R"(^[a-z0-9-]+(\.example)?$)";
    EXPECT_NO_THROW(
        issue(test::request_json(R"({"CN":"web","hosts":["web.example","10.0.0.1"]})"), ca.signer, p, {}, w));
    EXPECT_TRUE(throws_code(
        [&] { issue(test::request_json(R"({"CN":"web","hosts":["evil@other.org"]})"), ca.signer, p, {}, w); },
        Code::PolicyNameNotAllowed));
    // A pathologically deep pattern is a policy error (Go's limit is 1000 levels), not a stack overflow.
    const std::string deep = std::string(20000, '(') + "a" + std::string(20000, ')');
    const std::string config =
        R"({"signing":{"default":{"expiry":"1h","usages":["signing"],"name_whitelist":")" + deep + R"("}}})";
    EXPECT_TRUE(throws_code([&] { parse_signing_policy(config, "c.json"); }, Code::PolicyInvalid));
}

TEST(PolicyRules, DatesCoverTheWholeX509Range) {
    EXPECT_EQ(parse_rfc3339("2300-01-02T03:04:05Z", "t").time_since_epoch().count(), 10413889445);
    EXPECT_EQ(format_rfc3339(parse_rfc3339("9999-12-31T23:59:59Z", "t")), "9999-12-31T23:59:59Z");
    EXPECT_EQ(format_rfc3339(parse_rfc3339("1950-01-01T00:00:00Z", "t")), "1950-01-01T00:00:00Z");
    const std::string why = test::error_message([] { parse_rfc3339("1012-01-02T03:04:05Z", "not_after"); });
    EXPECT_NE(why.find("1950-01-01 (UTCTime) to 9999-12-31"), std::string::npos) << why;
    EXPECT_TRUE(throws_code([] { parse_rfc3339("2023-02-30T00:00:00Z", "t"); }, Code::PolicyInvalid));

    Profile p = test::profile_with({"signing", "client auth"});
    p.not_before = parse_rfc3339("2300-01-02T03:04:05Z", "t");
    p.not_after = parse_rfc3339("2400-01-02T03:04:05Z", "t");
    Warnings w;
    const auto cert = Certificate::from_pem(self_sign(test::request_json(R"({"CN":"far"})"), p, w).cert, "far");
    ASN1_TIME* nb = ASN1_TIME_dup(X509_get0_notBefore(cert.get()));
    EXPECT_EQ(ASN1_STRING_type(nb), V_ASN1_GENERALIZEDTIME);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(nb))), "23000102030405Z");
    ASN1_TIME_free(nb);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(X509_get0_notAfter(cert.get())))),
              "24000102030405Z");
    // Certificate's clock view saturates instead of wrapping to 1715.
    EXPECT_EQ(cert.not_before(), Clock::time_point::max());
    // And the one who checks what it made still can: signatures, then.
    EXPECT_NO_THROW(verify_issued(cert, cert));
}

TEST(PolicyRules, VerifyIssuedNamesBothStacks) {
    const auto ca = test::make_ca();
    const auto other = test::make_ca(R"({"CN":"Other","key":{"algo":"ecdsa","size":256}})");
    Warnings w;
    const auto leaf = Certificate::from_pem(
        issue(test::request_json(R"({"CN":"x"})"), ca.signer, test::profile_with({"signing"}), {}, w).cert, "x");
    EXPECT_NO_THROW(verify_issued(leaf, ca.signer.certificate()));
    const std::string why = test::error_message([&] { verify_issued(leaf, other.signer.certificate()); });
    EXPECT_NE(why.find("OpenSSL"), std::string::npos) << why;
    EXPECT_NE(why.find("Botan"), std::string::npos) << why;
    EXPECT_TRUE(throws_code([&] { verify_issued(leaf, other.signer.certificate()); }, Code::CertVerifyFailed));
}

// A CSR whose public key BIT STRING does not decode as a key: certinfo used to dereference NULL.
TEST(PolicyRules, CsrWithUndecodableKeyIsAParseError) {
    std::string pem = make_csr(EVP_sha256(), false);
    const auto csr = Csr::from_pem(pem, "ok.csr");
    unsigned char* der = nullptr;
    const int len = i2d_X509_REQ(csr.get(), &der);
    std::string bytes(reinterpret_cast<char*>(der), static_cast<size_t>(len));
    OPENSSL_free(der);
    // RSAPublicKey inside the BIT STRING: SEQUENCE (0x30 0x82 0x01 0x0a) of two INTEGERs; break its tag.
    const size_t at = bytes.find(std::string("\x30\x82\x01\x0a\x02\x82\x01\x01", 8));
    ASSERT_NE(at, std::string::npos);
    bytes[at] = 0x31;
    const unsigned char* p = reinterpret_cast<const unsigned char*>(bytes.data());
    X509_REQ* broken = d2i_X509_REQ(nullptr, &p, static_cast<long>(bytes.size()));
    ASSERT_NE(broken, nullptr) << "the outer structure must still parse";
    const std::string broken_pem = Csr(broken).pem();
    EXPECT_TRUE(throws_code([&] { csr_info(Csr::from_pem(broken_pem, "broken.csr")); }, Code::CsrParseFailed));
}

TEST(PolicyRules, OidArcBeyondInt64IsAParseError) {
    EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    X509_REQ* req = X509_REQ_new();
    X509_REQ_set_pubkey(req, key);
    ASN1_OBJECT* huge = OBJ_txt2obj("1.2.99999999999999999999999", 1);
    ASSERT_NE(huge, nullptr);
    X509_NAME_add_entry_by_OBJ(X509_REQ_get_subject_name(req), huge, MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>("v"), 1, -1, 0);
    ASN1_OBJECT_free(huge);
    X509_REQ_sign(req, key, EVP_sha256());
    EVP_PKEY_free(key);
    const Csr csr(req);
    EXPECT_TRUE(throws_code([&] { csr_info(csr); }, Code::CsrParseFailed));
}

}  // namespace
}  // namespace trellis::pki
