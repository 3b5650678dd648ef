// Golden tests of certificate dumps: each issued certificate rendered as stable
// text (serials, dates, key material, key identifiers and signatures masked)
// and compared with tests/data/pki/golden/<name>.txt. TRELLIS_UPDATE_GOLDEN=1
// rewrites the files instead (see tests/data/pki/README.md).
#include <gtest/gtest.h>
#include <openssl/x509v3.h>

#include <sstream>

#include "golden_files.hpp"
#include "helpers.hpp"
#include "support.hpp"

namespace trellis::pki {
namespace {

std::string name_text(const X509_NAME* name) {
    BIO* bio = BIO_new(BIO_s_mem());
    X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253);
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<size_t>(len));
    BIO_free(bio);
    return out;
}

std::string extension_text(X509_EXTENSION* ext) {
    const int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
    if (nid == NID_subject_key_identifier || nid == NID_authority_key_identifier)
        return "<" + std::to_string(ASN1_STRING_length(X509_EXTENSION_get_data(ext))) +
               "-byte extension, key id masked>";
    BIO* bio = BIO_new(BIO_s_mem());
    X509V3_EXT_print(bio, ext, 0, 0);
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<size_t>(len));
    BIO_free(bio);
    return out;
}

std::string dump(const std::string& pem) {
    const Certificate cert = Certificate::from_pem(pem, "golden");
    X509* x = cert.get();
    std::ostringstream out;
    out << "version: " << X509_get_version(x) + 1 << "\n";
    const ASN1_INTEGER* serial = X509_get0_serialNumber(x);
    out << "serial: <masked> positive=" << (ASN1_STRING_type(serial) == V_ASN1_INTEGER)
        << " at-most-20-bytes=" << (ASN1_STRING_length(serial) <= 20) << "\n";
    out << "issuer: " << name_text(X509_get_issuer_name(x)) << "\n";
    out << "subject: " << name_text(X509_get_subject_name(x)) << "\n";
    const auto secs = std::chrono::duration_cast<std::chrono::seconds>(cert.not_after() - cert.not_before()).count();
    out << "validity: <dates masked> " << secs / 3600 << "h" << (secs % 3600) / 60 << "m"
        << " not-before-on-a-minute=" << (Clock::to_time_t(cert.not_before()) % 60 == 0) << "\n";
    const EVP_PKEY* pub = X509_get0_pubkey(x);
    out << "public key: " << OBJ_nid2sn(EVP_PKEY_get_base_id(pub)) << " " << EVP_PKEY_get_bits(pub)
        << " bits <masked>\n";
    out << "signature: " << OBJ_nid2ln(X509_get_signature_nid(x)) << " <masked>\n";
    for (int i = 0; i < X509_get_ext_count(x); ++i) {
        X509_EXTENSION* ext = X509_get_ext(x, i);
        out << "extension: " << OBJ_nid2ln(OBJ_obj2nid(X509_EXTENSION_get_object(ext)))
            << (X509_EXTENSION_get_critical(ext) ? " (critical)" : "") << "\n    " << extension_text(ext) << "\n";
    }
    return out.str();
}

void check_golden(const std::string& name, const std::string& pem) {
    const auto path = trellis::testing::data_path("pki/golden/" + name + ".txt");
    trellis::testing::expect_golden(path, dump(pem));
}

constexpr const char* kGuideConfig =
    R"({"signing":{"default":{"expiry":"43800h","usages":["signing","key encipherment","server auth","client auth"]}}})";

TEST(Golden, TheGuidesCertificates) {
    Warnings w;
    const Issued ca = init_ca(test::request_json(R"({"CN":"CA","key":{"algo":"rsa","size":2048}})"), w);
    check_golden("guide-ca", ca.cert);
    const Signer signer(Certificate::from_pem(ca.cert, "ca"), PrivateKey::from_pem(ca.key, "ca-key"));
    const SigningPolicy policy = parse_signing_policy(kGuideConfig, "ca-config.json");
    Overrides peer;
    peer.hosts = split_hostnames("10.0.0.1,backend-1,127.0.0.1,::");
    check_golden("guide-backend-1",
                 issue(test::request_json(R"({"CN":"backend-1","hosts":[""],"key":{"algo":"rsa","size":2048}})"),
                       signer, policy.profile("peer", false, w), peer, w)
                     .cert);
    Overrides client;
    client.hosts = split_hostnames("");
    check_golden("guide-client",
                 issue(test::request_json(R"({"CN":"client","hosts":[""],"key":{"algo":"rsa","size":2048}})"), signer,
                       policy.profile("client", false, w), client, w)
                     .cert);
}

TEST(Golden, EcdsaAndEd25519WithEveryExtension) {
    Warnings w;
    const Issued ca = init_ca(test::request_json(R"({"CN":"Ed CA","key":{"algo":"ed25519"},"ca":{"pathlen":1},
        "names":[{"C":"DE","ST":"Berlin","L":"Berlin","O":"Trellis","OU":"PKI","E":"pki@example.com"}],"serialnumber":"7"})"),
                              w);
    check_golden("ed25519-ca", ca.cert);
    const Signer signer(Certificate::from_pem(ca.cert, "ca"), PrivateKey::from_pem(ca.key, "ca-key"));
    const SigningPolicy policy = parse_signing_policy(R"({"signing":{"profiles":{"intermediate":{
        "usages":["cert sign","crl sign"],"expiry":"8760h","ca_constraint":{"is_ca":true,"max_path_len_zero":true}},
        "web":{"usages":["signing","key encipherment","server auth"],"expiry":"720h","crl_url":"http://127.0.0.1:8888/crl",
        "ocsp_url":"http://127.0.0.1:8888/ocsp","issuer_urls":["http://127.0.0.1:8888/ca"]}}}})",
                                                      "c.json");
    check_golden("ecdsa-intermediate",
                 issue(test::request_json(R"({"CN":"Intermediate","key":{"algo":"ecdsa","size":384}})"), signer,
                       policy.profile("intermediate", true, w), {}, w)
                     .cert);
    check_golden("ecdsa-web",
                 issue(test::request_json(R"({"CN":"web","hosts":["web.example","*.web.example","127.0.0.8","::1",
                       "ops@example.com","spiffe://trellis/web"]})"),
                       signer, policy.profile("web", true, w), {}, w)
                     .cert);
}

}  // namespace
}  // namespace trellis::pki
