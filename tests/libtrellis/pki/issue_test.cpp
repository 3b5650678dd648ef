#include "pki/issue.hpp"

#include <gtest/gtest.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <set>
#include <thread>
#include <vector>

#include "helpers.hpp"
#include "support.hpp"

namespace trellis::pki {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using test::chain;
using test::throws_code;
using test::verify_both;

constexpr const char* kGuideConfig =
    R"({"signing":{"default":{"expiry":"43800h","usages":["signing","key encipherment","server auth","client auth"]}}})";

std::vector<unsigned char> ski_of(const Certificate& c) {
    const ASN1_OCTET_STRING* s = X509_get0_subject_key_id(c.get());
    if (s == nullptr) return {};
    return {ASN1_STRING_get0_data(s), ASN1_STRING_get0_data(s) + ASN1_STRING_length(s)};
}

std::vector<unsigned char> aki_of(const Certificate& c) {
    const ASN1_OCTET_STRING* s = X509_get0_authority_key_id(c.get());
    if (s == nullptr) return {};
    return {ASN1_STRING_get0_data(s), ASN1_STRING_get0_data(s) + ASN1_STRING_length(s)};
}

std::vector<unsigned char> sha256_160(const Certificate& c) {
    const unsigned char* bits = nullptr;
    int len = 0;
    X509_PUBKEY_get0_param(nullptr, &bits, &len, nullptr, X509_get_X509_PUBKEY(c.get()));
    unsigned char d[32];
    SHA256(bits, static_cast<size_t>(len), d);
    return {d, d + 20};
}

bool critical(const Certificate& c, int nid) {
    const int i = X509_get_ext_by_NID(c.get(), nid, -1);
    return i >= 0 && X509_EXTENSION_get_critical(X509_get_ext(c.get(), i)) == 1;
}

// The certificate's extensions by NID, in their order.
std::vector<int> extension_nids(const Certificate& c) {
    std::vector<int> out;
    for (int i = 0; i < X509_get_ext_count(c.get()); ++i)
        out.push_back(OBJ_obj2nid(X509_EXTENSION_get_object(X509_get_ext(c.get(), i))));
    return out;
}

long pathlen(const Certificate& c) {
    auto* bc = static_cast<BASIC_CONSTRAINTS*>(X509_get_ext_d2i(c.get(), NID_basic_constraints, nullptr, nullptr));
    const long out = bc && bc->pathlen ? ASN1_INTEGER_get(bc->pathlen) : -1;
    BASIC_CONSTRAINTS_free(bc);
    return out;
}

// The guide end to end: RSA CA, three peers with -profile=peer (absent: default + warning), one client.
TEST(Issue, TheGuidesCertificatesVerifyWithBothStacks) {
    Warnings w;
    const Issued ca_files = init_ca(test::request_json(R"({"CN":"CA","key":{"algo":"rsa","size":2048}})"), w);
    EXPECT_TRUE(w.empty());
    const Certificate ca_cert = Certificate::from_pem(ca_files.cert, "ca.pem");
    EXPECT_TRUE(ca_cert.is_ca());
    EXPECT_TRUE(ca_cert.has_key_usage(KU_KEY_CERT_SIGN));
    EXPECT_TRUE(ca_cert.has_key_usage(KU_CRL_SIGN));
    EXPECT_FALSE(ca_cert.has_key_usage(KU_DIGITAL_SIGNATURE));
    EXPECT_EQ(ca_cert.not_after() - ca_cert.not_before(), hours(43800));
    EXPECT_EQ(pathlen(ca_cert), -1);
    Csr::from_pem(ca_files.csr, "ca.csr").verify_self_signature("ca.csr");

    const Signer ca(ca_cert, PrivateKey::from_pem(ca_files.key, "ca-key.pem"));
    const SigningPolicy policy = parse_signing_policy(kGuideConfig, "ca-config.json");
    const Profile& peer_profile = policy.profile("peer", false, w);
    ASSERT_EQ(w.size(), 1u);

    Warnings leaf_warnings;
    const auto peer_req = test::request_json(R"({"CN":"backend-1","hosts":[""],"key":{"algo":"rsa","size":2048}})");
    Overrides o;
    o.hosts = split_hostnames("10.0.0.1,backend-1,127.0.0.1,::");
    const Issued peer = issue(peer_req, ca, peer_profile, o, leaf_warnings);
    const Certificate cert = Certificate::from_pem(peer.cert, "backend-1.pem");
    EXPECT_EQ(cert.common_name(), "backend-1");
    EXPECT_EQ(cert.dns_names(), std::vector<std::string>{"backend-1"});
    EXPECT_EQ(cert.ip_addresses(), (std::vector<std::string>{"10.0.0.1", "127.0.0.1", "::"}));
    EXPECT_TRUE(cert.has_ext_key_usage(NID_server_auth));
    EXPECT_TRUE(cert.has_ext_key_usage(NID_client_auth));
    EXPECT_TRUE(cert.has_key_usage(KU_KEY_ENCIPHERMENT));  // RSA keeps it
    EXPECT_TRUE(cert.matches(PrivateKey::from_pem(peer.key, "backend-1-key.pem")));
    EXPECT_EQ(cert.not_after() - cert.not_before(), hours(43800));
    Csr::from_pem(peer.csr, "backend-1.csr").verify_self_signature("backend-1.csr");

    for (const Purpose p : {Purpose::Any, Purpose::ServerAuth, Purpose::ClientAuth})
        EXPECT_EQ(verify_both(chain(peer.cert, ca_files.cert, p, "127.0.0.1")), "");
    EXPECT_EQ(verify_both(chain(peer.cert, ca_files.cert, Purpose::ServerAuth, "backend-1")), "");
    EXPECT_EQ(verify_both(chain(peer.cert, ca_files.cert, Purpose::ServerAuth, "10.0.0.1")), "");

    // The client: -hostname="" means no SANs at all, never an empty DNS name.
    Overrides none;
    none.hosts = split_hostnames("");
    const Issued client = issue(test::request_json(R"({"CN":"client","hosts":[""],"key":{"algo":"rsa","size":2048}})"),
                                ca, policy.profile("client", false, w), none, leaf_warnings);
    const Certificate client_cert = Certificate::from_pem(client.cert, "client.pem");
    EXPECT_TRUE(client_cert.dns_names().empty());
    EXPECT_TRUE(client_cert.ip_addresses().empty());
    EXPECT_EQ(X509_get_ext_by_NID(client_cert.get(), NID_subject_alt_name, -1), -1);
    EXPECT_EQ(verify_both(chain(client.cert, ca_files.cert, Purpose::ClientAuth)), "");
}

TEST(Issue, CertificatesHaveCfsslsShape) {
    const auto ca = test::make_ca();
    Warnings w;
    const Issued leaf = issue(test::request_json(R"({"CN":"leaf","hosts":["127.0.0.1"]})"), ca.signer,
                              test::profile_with({"signing", "key encipherment", "server auth"}), {}, w);
    const Certificate ca_cert = ca.signer.certificate();
    const Certificate cert = Certificate::from_pem(leaf.cert, "leaf.pem");

    EXPECT_EQ(X509_get_version(cert.get()), X509_VERSION_3);
    // Serial: positive, under 2^159, so at most 20 octets in DER.
    const ASN1_INTEGER* serial = X509_get0_serialNumber(cert.get());
    EXPECT_EQ(ASN1_STRING_type(serial), V_ASN1_INTEGER);
    EXPECT_LE(ASN1_STRING_length(serial), 20);
    EXPECT_GE(ASN1_STRING_length(serial), 10);
    EXPECT_NE(cert.serial_decimal(), Certificate::from_pem(ca.issued.cert, "ca").serial_decimal());

    // Key identifiers: RFC 7093 method 1 (SHA-256, leftmost 160 bits), AKI = issuer's SKI.
    EXPECT_EQ(ski_of(cert), sha256_160(cert));
    EXPECT_EQ(ski_of(ca_cert), sha256_160(ca_cert));
    EXPECT_EQ(aki_of(cert), ski_of(ca_cert));
    EXPECT_EQ(aki_of(ca_cert), ski_of(ca_cert));

    EXPECT_TRUE(critical(cert, NID_basic_constraints));
    EXPECT_FALSE(cert.is_ca());
    EXPECT_TRUE(critical(cert, NID_key_usage));
    EXPECT_FALSE(critical(cert, NID_ext_key_usage));
    EXPECT_TRUE(critical(ca_cert, NID_basic_constraints));

    // ECDSA: keyEncipherment is dropped with a warning.
    EXPECT_TRUE(cert.has_key_usage(KU_DIGITAL_SIGNATURE));
    EXPECT_FALSE(cert.has_key_usage(KU_KEY_ENCIPHERMENT));
    ASSERT_EQ(w.size(), 1u);
    EXPECT_NE(w[0].find("key encipherment"), std::string::npos);

    // Validity: now rounded to the minute, minus 5 minutes; a year by default.
    const auto now = Clock::now();
    EXPECT_EQ(std::chrono::duration_cast<std::chrono::seconds>(cert.not_before().time_since_epoch()).count() % 60, 0);
    EXPECT_LE(cert.not_before(), now - minutes(4));
    EXPECT_GE(cert.not_before(), now - minutes(6));
    EXPECT_EQ(cert.not_after() - cert.not_before(), hours(8760));
    EXPECT_EQ(verify_both(chain(leaf.cert, ca.issued.cert, Purpose::ServerAuth, "127.0.0.1")), "");
}

// The issuer-makes-the-key path (provisioning, the library) makes the same certificate as gencert's,
// and the object it returns works without a trip through PEM (its public key is there).
TEST(Issue, IssueCertificateMatchesIssueWithoutCsrOrPem) {
    const auto ca = test::make_ca();
    const auto request = test::request_json(R"({"CN":"leaf","hosts":["127.0.0.1","leaf.test"]})");
    const auto profile = test::profile_with({"signing", "server auth", "client auth"});
    Warnings w;
    const Certificate via_csr = Certificate::from_pem(issue(request, ca.signer, profile, {}, w).cert, "a");
    const PrivateKey key = PrivateKey::generate({KeyAlgorithm::Ecdsa, 256});
    const Certificate direct = issue_certificate(request, key, ca.signer, profile, w);
    EXPECT_TRUE(direct.matches(key));
    EXPECT_EQ(extension_nids(direct), extension_nids(via_csr));
    EXPECT_EQ(direct.subject_text(), via_csr.subject_text());
    EXPECT_EQ(direct.ip_addresses(), via_csr.ip_addresses());
    EXPECT_EQ(direct.dns_names(), via_csr.dns_names());
    EXPECT_EQ(direct.not_after() - direct.not_before(), via_csr.not_after() - via_csr.not_before());
    EXPECT_EQ(verify_both(VerifyRequest{direct, {}, {ca.signer.certificate()}, Purpose::ServerAuth, "127.0.0.1", {}}),
              "");
    EXPECT_EQ(Certificate::from_pem(direct.pem(), "b").der(), direct.der());
}

TEST(Issue, InitCaSignerMakesInitCasCaWithoutCsrReadyToSign) {
    Warnings w;
    const CertificateRequest request =
        test::request_json(R"({"CN":"Test CA","names":[{"O":"Ops"}],"ca":{"expiry":"2h","pathlen":1}})");
    const Issued via_csr = init_ca(request, w);
    const NewCa made = init_ca_signer(request, w);
    EXPECT_FALSE(via_csr.csr.empty());
    EXPECT_TRUE(made.issued.csr.empty());  // provisioning writes none
    const Certificate& direct = made.signer.certificate();
    EXPECT_EQ(made.issued.cert, direct.pem());
    EXPECT_EQ(made.issued.key, made.signer.key().pem());
    EXPECT_TRUE(direct.matches(PrivateKey::from_pem(made.issued.key, "ca-key.pem")));
    const Certificate other = Certificate::from_pem(via_csr.cert, "ca.pem");
    EXPECT_EQ(direct.subject_text(), other.subject_text());
    EXPECT_EQ(extension_nids(direct), extension_nids(other));
    EXPECT_EQ(pathlen(direct), 1);
    EXPECT_EQ(direct.not_after() - direct.not_before(), other.not_after() - other.not_before());
    // It signs at once, and both stacks accept what it signed under the CA as written to disk.
    const PrivateKey key = PrivateKey::generate({KeyAlgorithm::Ecdsa, 256});
    const Certificate leaf = issue_certificate(test::request_json(R"({"CN":"n1","hosts":["127.0.0.1"]})"), key,
                                               made.signer, test::profile_with({"server auth"}), w);
    EXPECT_EQ(verify_both(VerifyRequest{
                  leaf, {}, {Certificate::from_pem(made.issued.cert, "ca.pem")}, Purpose::ServerAuth, "127.0.0.1", {}}),
              "");
}

TEST(Issue, SignatureDigestFollowsTheIssuerKey) {
    struct Case {
        const char* ca_key;
        int sig_nid;
    };
    const Case cases[] = {
        {R"({"algo":"rsa","size":2048})", NID_sha256WithRSAEncryption},
        // cfssl's signer.DefaultSigAlgo: SHA-384 from 3072 bits, SHA-512 from 4096.
        {R"({"algo":"rsa","size":3072})", NID_sha384WithRSAEncryption},
        {R"({"algo":"rsa","size":4096})", NID_sha512WithRSAEncryption},
        {R"({"algo":"ecdsa","size":256})", NID_ecdsa_with_SHA256},
        {R"({"algo":"ecdsa","size":384})", NID_ecdsa_with_SHA384},
        {R"({"algo":"ecdsa","size":521})", NID_ecdsa_with_SHA512},
        {R"({"algo":"ed25519"})", NID_ED25519},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.ca_key);
        const auto ca = test::make_ca(std::string(R"({"CN":"CA","key":)") + c.ca_key + "}");
        EXPECT_EQ(X509_get_signature_nid(ca.signer.certificate().get()), c.sig_nid);
        Warnings w;
        // The leaf's own key is P-256 in every case: the issuer's key picks the digest.
        const Issued leaf = issue(test::request_json(R"({"CN":"leaf","hosts":["127.0.0.1"]})"), ca.signer,
                                  test::profile_with({"signing", "server auth"}), {}, w);
        EXPECT_EQ(X509_get_signature_nid(Certificate::from_pem(leaf.cert, "leaf").get()), c.sig_nid);
        EXPECT_EQ(verify_both(chain(leaf.cert, ca.issued.cert, Purpose::ServerAuth, "127.0.0.1")), "");
    }
}

TEST(Issue, CaOptionsSetPathLengthAndValidity) {
    Warnings w;
    const auto one = Certificate::from_pem(
        init_ca(test::request_json(R"({"CN":"CA","ca":{"pathlen":1,"expiry":"2h","backdate":"1m"}})"), w).cert, "ca");
    EXPECT_EQ(pathlen(one), 1);
    EXPECT_EQ(one.not_after() - one.not_before(), hours(2));
    const auto zero =
        Certificate::from_pem(init_ca(test::request_json(R"({"CN":"CA","ca":{"pathlenzero":true}})"), w).cert, "ca");
    EXPECT_EQ(pathlen(zero), 0);
}

TEST(Issue, IntermediateChainsVerify) {
    const auto root = test::make_ca();
    Profile inter_profile = test::profile_with({"cert sign", "crl sign"});
    inter_profile.is_ca = true;
    inter_profile.max_path_len_zero = true;
    Warnings w;
    const Issued inter = issue(test::request_json(R"({"CN":"Intermediate"})"), root.signer, inter_profile, {}, w);
    const Certificate inter_cert = Certificate::from_pem(inter.cert, "inter");
    EXPECT_TRUE(inter_cert.is_ca());
    EXPECT_EQ(pathlen(inter_cert), 0);
    const Signer inter_signer(inter_cert, PrivateKey::from_pem(inter.key, "inter-key"));
    const Issued leaf = issue(test::request_json(R"({"CN":"leaf","hosts":["127.0.0.2"]})"), inter_signer,
                              test::profile_with({"signing", "client auth"}), {}, w);
    VerifyRequest req = chain(leaf.cert, root.issued.cert, Purpose::ClientAuth, "127.0.0.2");
    req.intermediates.push_back(inter_cert);
    EXPECT_EQ(verify_both(req), "");
}

TEST(Issue, SignCsrTakesSansFromTheRequestUnlessOverridden) {
    const auto ca = test::make_ca();
    Warnings w;
    const Issued key_and_csr = generate_key(test::request_json(R"({"CN":"svc","hosts":["svc.example","127.0.0.3"],
        "names":[{"O":"Trellis","OU":"ops"}]})"),
                                            w);
    EXPECT_TRUE(key_and_csr.cert.empty());
    const Profile profile = test::profile_with({"signing", "server auth"});
    const Certificate a = Certificate::from_pem(sign_csr(key_and_csr.csr, "svc.csr", ca.signer, profile, {}, w), "a");
    EXPECT_EQ(a.dns_names(), std::vector<std::string>{"svc.example"});
    EXPECT_EQ(a.ip_addresses(), std::vector<std::string>{"127.0.0.3"});
    EXPECT_EQ(a.common_name(), "svc");
    EXPECT_TRUE(a.matches(PrivateKey::from_pem(key_and_csr.key, "svc-key")));
    char subject[256];
    X509_NAME_oneline(X509_get_subject_name(a.get()), subject, sizeof subject);
    EXPECT_STREQ(subject, "/O=Trellis/OU=ops/CN=svc");

    Overrides o;
    o.hosts = std::vector<std::string>{"other.example"};
    o.cn = "renamed";
    const Certificate b = Certificate::from_pem(sign_csr(key_and_csr.csr, "svc.csr", ca.signer, profile, o, w), "b");
    EXPECT_EQ(b.dns_names(), std::vector<std::string>{"other.example"});
    EXPECT_TRUE(b.ip_addresses().empty());
    EXPECT_EQ(b.common_name(), "renamed");
    EXPECT_EQ(verify_both(chain(b.pem(), ca.issued.cert, Purpose::ServerAuth, "other.example")), "");
}

TEST(Issue, SignCsrRefusesBadRequests) {
    const auto ca = test::make_ca();
    const Profile profile = test::profile_with({"signing"});
    Warnings w;
    EXPECT_TRUE(throws_code([&] { sign_csr("not a csr", "x.csr", ca.signer, profile, {}, w); }, Code::CsrParseFailed));
    // A request whose signature does not match: flip a byte inside the signature.
    const Issued kc = generate_key(test::request_json(R"({"CN":"x"})"), w);
    Csr csr = Csr::from_pem(kc.csr, "x.csr");
    const ASN1_BIT_STRING* sig = nullptr;
    X509_REQ_get0_signature(csr.get(), &sig, nullptr);
    const_cast<unsigned char*>(ASN1_STRING_get0_data(sig))[10] ^= 0x01;
    const std::string tampered = Csr(X509_REQ_dup(csr.get())).pem();
    EXPECT_TRUE(
        throws_code([&] { sign_csr(tampered, "x.csr", ca.signer, profile, {}, w); }, Code::CsrSignatureInvalid));
    // An RSA-1024 request is refused like an RSA-1024 key.
    EVP_PKEY* weak = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024});
    X509_REQ* req = X509_REQ_new();
    X509_REQ_set_pubkey(req, weak);
    X509_REQ_sign(req, weak, EVP_sha256());
    const std::string weak_pem = Csr(req).pem();
    EVP_PKEY_free(weak);
    EXPECT_TRUE(throws_code([&] { sign_csr(weak_pem, "weak.csr", ca.signer, profile, {}, w); }, Code::KeyUnsupported));
}

TEST(Issue, NameWhitelistAppliesToCnAndDnsSans) {
    const auto ca = test::make_ca();
    Profile p = test::profile_with({"signing", "server auth"});
    p.name_whitelist = R"(^(backend-\d+|127\.0\.0\.\d+)$)";
    Warnings w;
    EXPECT_NO_THROW(
        issue(test::request_json(R"({"CN":"backend-1","hosts":["backend-1","127.0.0.1"]})"), ca.signer, p, {}, w));
    EXPECT_TRUE(
        throws_code([&] { issue(test::request_json(R"({"CN":"evil","hosts":["backend-1"]})"), ca.signer, p, {}, w); },
                    Code::PolicyNameNotAllowed));
    EXPECT_TRUE(
        throws_code([&] { issue(test::request_json(R"({"CN":"backend-2","hosts":["web-1"]})"), ca.signer, p, {}, w); },
                    Code::PolicyNameNotAllowed));
    // As cfssl: IP SANs are not names the whitelist checks.
    EXPECT_NO_THROW(issue(test::request_json(R"({"CN":"backend-2","hosts":["10.0.0.1"]})"), ca.signer, p, {}, w));
}

TEST(Issue, ProfileUrlsAndFixedValidityAreWritten) {
    const auto ca = test::make_ca();
    Profile p = test::profile_with({"signing", "server auth"});
    p.crl_url = "http://127.0.0.1:8888/crl";
    p.ocsp_url = "http://127.0.0.1:8888/ocsp";
    p.issuer_urls = {"http://127.0.0.1:8888/ca"};
    p.not_before = Time(std::chrono::seconds(1700000000));
    p.not_after = Time(std::chrono::seconds(4000000000));
    Warnings w;
    const Certificate c =
        Certificate::from_pem(issue(test::request_json(R"({"CN":"x"})"), ca.signer, p, {}, w).cert, "c");
    EXPECT_EQ(Clock::to_time_t(c.not_before()), 1700000000);
    EXPECT_EQ(Clock::to_time_t(c.not_after()), 4000000000);
    EXPECT_GE(X509_get_ext_by_NID(c.get(), NID_crl_distribution_points, -1), 0);
    EXPECT_GE(X509_get_ext_by_NID(c.get(), NID_info_access, -1), 0);
    ASSERT_EQ(w.size(), 1u);  // outlives the CA (which lasts 5 years from now)
    EXPECT_NE(w[0].find("beyond its CA"), std::string::npos) << w[0];
}

TEST(Issue, SelfSignedAndJsonOutput) {
    Warnings w;
    const Issued s = self_sign(test::request_json(R"({"CN":"self","hosts":["127.0.0.4"]})"),
                               test::profile_with({"signing", "server auth"}), w);
    const Certificate c = Certificate::from_pem(s.cert, "self");
    EXPECT_FALSE(c.is_ca());
    EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(c.get()), X509_get_issuer_name(c.get())), 0);
    EXPECT_EQ(X509_verify(c.get(), X509_get0_pubkey(c.get())), 1);
    const std::string json = s.to_json();
    EXPECT_EQ(json.find('\n'), std::string::npos);
    EXPECT_LT(json.find("\"cert\""), json.find("\"csr\""));
    EXPECT_LT(json.find("\"csr\""), json.find("\"key\""));
    EXPECT_EQ(nlohmann::json::parse(json)["key"], s.key);
    Issued only_cert;
    only_cert.cert = "C";
    EXPECT_EQ(only_cert.to_json(), R"({"cert":"C"})");
}

TEST(Signer, LoadsFromPathsFileAndEnvAndChecksTheCa) {
    const auto ca = test::make_ca();
    trellis::testing::TempDir dir;
    trellis::testing::spit(dir / "ca.pem", ca.issued.cert);
    trellis::testing::spit(dir / "ca-key.pem", ca.issued.key);
    const PrivateKey key = PrivateKey::from_pem(ca.issued.key, "k");
    trellis::testing::spit(dir / "ca-key-enc.pem", key.encrypted_pem("pw"));

    EXPECT_NO_THROW(Signer::load((dir / "ca.pem").string(), "file:" + (dir / "ca-key.pem").string()));
    ::setenv("TRELLIS_PKI_TEST_CA_KEY", ca.issued.key.c_str(), 1);
    EXPECT_NO_THROW(Signer::load((dir / "ca.pem").string(), "env:TRELLIS_PKI_TEST_CA_KEY"));
    EXPECT_NO_THROW(Signer::load((dir / "ca.pem").string(), (dir / "ca-key-enc.pem").string(), std::string("pw")));
    EXPECT_TRUE(throws_code([&] { Signer::load((dir / "ca.pem").string(), (dir / "ca-key-enc.pem").string()); },
                            Code::KeyEncrypted));
    EXPECT_TRUE(throws_code(
        [&] { Signer::load((dir / "ca.pem").string(), (dir / "ca-key-enc.pem").string(), std::string("bad")); },
        Code::KeyBadPassphrase));
    EXPECT_TRUE(throws_code([&] { Signer::load((dir / "missing.pem").string(), (dir / "ca-key.pem").string()); },
                            Code::FileReadFailed));
    EXPECT_TRUE(throws_code([&] { Signer::load((dir / "ca-key.pem").string(), (dir / "ca-key.pem").string()); },
                            Code::CertDecodeFailed));

    // Another CA's key.
    const auto other = test::make_ca();
    trellis::testing::spit(dir / "other-key.pem", other.issued.key);
    EXPECT_TRUE(throws_code([&] { Signer::load((dir / "ca.pem").string(), (dir / "other-key.pem").string()); },
                            Code::KeyMismatch));

    // A leaf and its own key: not a CA.
    Warnings w;
    const Issued leaf =
        issue(test::request_json(R"({"CN":"leaf"})"), ca.signer, test::profile_with({"signing"}), {}, w);
    EXPECT_TRUE(throws_code(
        [&] { Signer(Certificate::from_pem(leaf.cert, "leaf"), PrivateKey::from_pem(leaf.key, "leaf-key")); },
        Code::CertNotCA));
}

// What Trellis makes is checked with both stacks before it is written: Code::CertVerifyFailed otherwise.
TEST(Verify, RequireChainRaisesCertVerifyFailedWithBothReasons) {
    const auto ca = test::make_ca();
    const auto foreign = test::make_ca(R"({"CN":"Foreign CA"})");
    Warnings w;
    const Issued leaf =
        issue(test::request_json(R"({"CN":"leaf"})"), ca.signer, test::profile_with({"signing", "client auth"}), {}, w);
    EXPECT_NO_THROW(require_chain(chain(leaf.cert, ca.issued.cert, Purpose::ClientAuth), "leaf.pem"));
    EXPECT_TRUE(
        throws_code([&] { require_chain(chain(leaf.cert, foreign.issued.cert), "leaf.pem"); }, Code::CertVerifyFailed));
    const std::string msg =
        test::error_message([&] { require_chain(chain(leaf.cert, foreign.issued.cert), "leaf.pem"); });
    EXPECT_NE(msg.find("leaf.pem: "), std::string::npos) << msg;
    EXPECT_NE(msg.find("OpenSSL: "), std::string::npos) << msg;
    EXPECT_NE(msg.find("Botan: "), std::string::npos) << msg;
}

TEST(Verify, ForeignCaExpiryPurposeAndHostFailBothStacks) {
    const auto ca = test::make_ca();
    const auto foreign = test::make_ca(R"({"CN":"Foreign CA"})");
    Warnings w;
    const Issued leaf = issue(test::request_json(R"({"CN":"leaf","hosts":["127.0.0.5","leaf.example"]})"), ca.signer,
                              test::profile_with({"signing", "client auth"}), {}, w);
    const auto both_fail = [](const VerifyRequest& r) {
        const auto a = verify_with_openssl(r);
        const auto b = verify_with_botan(r);
        EXPECT_FALSE(a.ok);
        EXPECT_FALSE(b.ok);
        EXPECT_FALSE(a.error.empty());
        EXPECT_FALSE(b.error.empty());
    };
    ASSERT_EQ(verify_both(chain(leaf.cert, ca.issued.cert, Purpose::ClientAuth, "127.0.0.5")), "");
    both_fail(chain(leaf.cert, foreign.issued.cert));
    both_fail(chain(leaf.cert, ca.issued.cert, Purpose::ServerAuth));
    both_fail(chain(leaf.cert, ca.issued.cert, Purpose::ClientAuth, "127.0.0.6"));
    both_fail(chain(leaf.cert, ca.issued.cert, Purpose::ClientAuth, "::1"));
    both_fail(chain(leaf.cert, ca.issued.cert, Purpose::ClientAuth, "other.example"));
    VerifyRequest late = chain(leaf.cert, ca.issued.cert);
    late.at = Clock::now() + hours(24 * 400);
    both_fail(late);
    VerifyRequest early = chain(leaf.cert, ca.issued.cert);
    early.at = Clock::now() - hours(1);
    both_fail(early);
}

TEST(Crl, IsBase64DerListingTheSerials) {
    const auto ca = test::make_ca();
    const std::string b64 = generate_crl({"12345", "340282366920938463463374607431768211455"}, ca.signer, hours(24));
    EXPECT_EQ(b64.find('\n'), std::string::npos);
    EXPECT_EQ(b64.find("-----"), std::string::npos);
    std::string der(b64.size(), '\0');
    const int len = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(der.data()),
                                    reinterpret_cast<const unsigned char*>(b64.data()), static_cast<int>(b64.size()));
    ASSERT_GT(len, 0);
    const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
    X509_CRL* crl = d2i_X509_CRL(nullptr, &p, len);
    ASSERT_NE(crl, nullptr);
    EXPECT_EQ(X509_CRL_verify(crl, X509_get0_pubkey(ca.signer.certificate().get())), 1);
    STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl);
    ASSERT_EQ(sk_X509_REVOKED_num(revoked), 2);
    std::vector<std::string> serials;
    for (int i = 0; i < 2; ++i) {
        BIGNUM* bn = ASN1_INTEGER_to_BN(X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revoked, i)), nullptr);
        char* dec = BN_bn2dec(bn);
        serials.emplace_back(dec);
        OPENSSL_free(dec);
        BN_free(bn);
    }
    std::sort(serials.begin(), serials.end());
    EXPECT_EQ(serials, (std::vector<std::string>{"12345", "340282366920938463463374607431768211455"}));
    X509_CRL_free(crl);
    EXPECT_TRUE(throws_code([&] { generate_crl({"12ab"}, ca.signer, hours(1)); }, Code::InputInvalidValue));
}

}  // namespace
}  // namespace trellis::pki

namespace trellis::pki {
namespace {

using test::chain;
using test::throws_code;

TEST(Signer, CaWithoutCertSignIsNotACa) {
    const auto root = test::make_ca();
    Profile p = test::profile_with({"signing", "server auth"});
    p.is_ca = true;
    Warnings w;
    const Issued odd = issue(test::request_json(R"({"CN":"CA:TRUE but no certSign"})"), root.signer, p, {}, w);
    const Certificate cert = Certificate::from_pem(odd.cert, "odd");
    EXPECT_TRUE(cert.is_ca());
    EXPECT_FALSE(cert.can_sign_certificates());
    EXPECT_TRUE(throws_code([&] { Signer(cert, PrivateKey::from_pem(odd.key, "odd-key")); }, Code::CertNotCA));
}

TEST(Certificate, CoversHostsByIpAndDnsWithWildcards) {
    const auto ca = test::make_ca();
    Warnings w;
    const Certificate c = Certificate::from_pem(
        issue(test::request_json(
                  R"({"CN":"not-a-san.example","hosts":["*.web.example","api.example","127.0.0.9","::1"]})"),
              ca.signer, test::profile_with({"signing", "server auth"}), {}, w)
            .cert,
        "c");
    EXPECT_TRUE(c.covers_host("a.web.example"));
    EXPECT_FALSE(c.covers_host("a.b.web.example"));
    EXPECT_FALSE(c.covers_host("web.example"));
    EXPECT_TRUE(c.covers_host("API.example"));
    EXPECT_TRUE(c.covers_host("127.0.0.9"));
    EXPECT_TRUE(c.covers_host("::1"));
    EXPECT_TRUE(c.covers_host("0:0::1"));
    EXPECT_FALSE(c.covers_host("127.0.0.1"));
    EXPECT_FALSE(c.covers_host("not-a-san.example"));  // never the CN
}

// Provisioning issues from several threads with one Signer: the results must all verify.
TEST(Issue, ConcurrentIssuanceWithOneSigner) {
    const auto ca = test::make_ca();
    const Profile p = test::profile_with({"signing", "client auth"});
    std::vector<std::string> certs(2 * 100);
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t)
        threads.emplace_back([&, t] {
            Warnings w;
            for (int i = 0; i < 100; ++i)
                certs[static_cast<size_t>(t * 100 + i)] =
                    issue(test::request_json(R"({"CN":"n"})"), ca.signer, p, {}, w).cert;
        });
    for (auto& th : threads) th.join();
    std::set<std::string> serials;
    for (const auto& pem : certs) {
        ASSERT_EQ(verify_with_openssl(chain(pem, ca.issued.cert, Purpose::ClientAuth)).error, "");
        serials.insert(Certificate::from_pem(pem, "c").serial_decimal());
    }
    EXPECT_EQ(serials.size(), certs.size());
}

}  // namespace
}  // namespace trellis::pki
