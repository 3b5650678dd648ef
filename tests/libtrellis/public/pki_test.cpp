// The public API's keys, certificates, issuing, verification and file writing, used as a library
// user uses them: through include/trellis/ only (no internal header in this file).
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <set>

#include <trellis/trellis.hpp>

#include "support.hpp"

namespace {

using trellis::Code;

Code code_of(const std::function<void()>& body) {
    try {
        body();
    } catch (const trellis::Error& e) {
        return e.code();
    }
    return Code::Internal;  // nothing thrown: never the code a test expects
}

mode_t mode_of(const std::filesystem::path& p) {
    struct stat st {};
    ::stat(p.c_str(), &st);
    return st.st_mode & 07777;
}

TEST(PublicApi, CaIssuesAPeerCertificateBothStacksAccept) {
    const auto ca = trellis::CertificateAuthority::create({.common_name = "Public CA"});
    EXPECT_TRUE(ca.certificate().is_ca());
    EXPECT_TRUE(ca.certificate().matches(ca.key()));
    const auto peer = ca.issue(trellis::CertificateSpec::peer("node-1", {"127.0.0.1", "node-1.example.test"}));
    EXPECT_EQ(peer.certificate.common_name(), "node-1");
    EXPECT_FALSE(peer.certificate.is_ca());
    EXPECT_TRUE(peer.certificate.matches(peer.key));
    EXPECT_FALSE(peer.certificate.matches(ca.key()));
    EXPECT_EQ(peer.certificate.ip_addresses(), std::vector<std::string>{"127.0.0.1"});
    EXPECT_EQ(peer.certificate.dns_names(), std::vector<std::string>{"node-1.example.test"});
    EXPECT_TRUE(peer.certificate.covers_host("127.0.0.1"));
    EXPECT_FALSE(peer.certificate.covers_host("127.0.0.2"));
    for (auto purpose : {trellis::Purpose::ServerAuth, trellis::Purpose::ClientAuth}) {
        const auto v = trellis::verify(peer.certificate, {ca.certificate()}, {.purpose = purpose, .host = "127.0.0.1"});
        EXPECT_TRUE(v.ok) << v.openssl_error << " / " << v.botan_error;
    }
    const auto wrong_host = trellis::verify(peer.certificate, {ca.certificate()}, {.host = "127.0.0.9"});
    EXPECT_FALSE(wrong_host.ok);
    EXPECT_FALSE(wrong_host.openssl_error.empty());
    EXPECT_FALSE(wrong_host.botan_error.empty());
}

TEST(PublicApi, IssueManyKeepsOrderAndMakesDistinctVerifiableCertificates) {
    const auto ca = trellis::CertificateAuthority::create({.common_name = "Batch CA"});
    std::vector<trellis::CertificateSpec> specs;
    for (int i = 0; i < 40; ++i) specs.push_back(trellis::CertificateSpec::client("agent-" + std::to_string(i)));
    specs[7].hosts = {"bad host!"};
    EXPECT_THROW(ca.issue_many(specs, 2), trellis::Error) << "a bad spec fails the batch";
    specs[7].hosts = {"127.0.0.7"};
    const auto issued = ca.issue_many(specs, 2);
    ASSERT_EQ(issued.size(), specs.size());
    std::set<std::string> keys;
    for (size_t i = 0; i < issued.size(); ++i) {
        EXPECT_EQ(issued[i].certificate.common_name(), "agent-" + std::to_string(i));
        EXPECT_TRUE(issued[i].certificate.matches(issued[i].key));
        EXPECT_TRUE(
            trellis::verify(issued[i].certificate, {ca.certificate()}, {.purpose = trellis::Purpose::ClientAuth}).ok);
        keys.insert(issued[i].key.pem());
    }
    EXPECT_EQ(keys.size(), specs.size());
    EXPECT_TRUE(issued[7].certificate.covers_host("127.0.0.7"));
}

TEST(PublicApi, UsagesAreExactlyThoseAskedFor) {
    const auto ca =
        trellis::CertificateAuthority::create({.common_name = "CA", .key = {trellis::KeyAlgorithm::Rsa, 2048}});
    const auto client = ca.issue(trellis::CertificateSpec::client("admin"));
    EXPECT_TRUE(trellis::verify(client.certificate, {ca.certificate()}, {.purpose = trellis::Purpose::ClientAuth}).ok);
    EXPECT_FALSE(trellis::verify(client.certificate, {ca.certificate()}, {.purpose = trellis::Purpose::ServerAuth}).ok);
    const auto other = trellis::CertificateAuthority::create({.common_name = "Other CA"});
    EXPECT_FALSE(trellis::verify(client.certificate, {other.certificate()}).ok) << "signed by another CA";
}

TEST(PublicApi, KeysRoundTripAndRefuseWeakOnes) {
    const auto key = trellis::PrivateKey::generate({trellis::KeyAlgorithm::Ecdsa, 384});
    EXPECT_EQ(key.spec().algorithm, trellis::KeyAlgorithm::Ecdsa);
    EXPECT_EQ(key.spec().bits, 384);
    EXPECT_EQ(trellis::PrivateKey::from_pem(key.pem(), "k.pem").pem(), key.pem());
    const std::string encrypted = key.encrypted_pem("secret");
    EXPECT_EQ(trellis::PrivateKey::from_pem(encrypted, "k.pem", "secret").pem(), key.pem());
    EXPECT_EQ(code_of([&] { trellis::PrivateKey::from_pem(encrypted, "k.pem"); }), Code::KeyEncrypted);
    EXPECT_EQ(code_of([] { trellis::PrivateKey::generate({trellis::KeyAlgorithm::Rsa, 1024}); }), Code::KeyUnsupported);
    EXPECT_EQ(code_of([] {
                  trellis::CertificateAuthority::create({"CA", "", {trellis::KeyAlgorithm::Rsa, 1024}});
              }),
              Code::KeyUnsupported);
}

TEST(PublicApi, CaPairsAreChecked) {
    const auto ca = trellis::CertificateAuthority::create({.common_name = "CA"});
    const auto leaf = ca.issue(trellis::CertificateSpec::server("s", {"127.0.0.1"}));
    EXPECT_EQ(code_of([&] { trellis::CertificateAuthority(ca.certificate(), leaf.key); }), Code::KeyMismatch);
    EXPECT_EQ(code_of([&] { trellis::CertificateAuthority(leaf.certificate, leaf.key); }), Code::CertNotCA);
    const auto reloaded =
        trellis::CertificateAuthority(trellis::Certificate::from_pem(ca.certificate().pem(), "ca.pem"),
                                      trellis::PrivateKey::from_pem(ca.key().pem(), "ca-key.pem"));
    EXPECT_TRUE(
        trellis::verify(reloaded.issue(trellis::CertificateSpec::client("c")).certificate, {ca.certificate()}).ok);
    EXPECT_EQ(code_of([] { trellis::Certificate::from_pem("not a certificate", "x.pem"); }), Code::CertDecodeFailed);
    EXPECT_EQ(code_of([&] { ca.issue(trellis::CertificateSpec::peer("p", {"bad host!"})); }), Code::CsrBadHost);
}

TEST(PublicApi, FileSetNeverReplacesADifferentFileUnlessAsked) {
    trellis::testing::TempDir dir;
    trellis::FileSet first;
    first.add(dir / "k.pem", "one", trellis::kSecretMode);
    first.commit();
    EXPECT_EQ(mode_of(dir / "k.pem"), 0600u);
    trellis::FileSet same;
    same.add(dir / "k.pem", "one", trellis::kSecretMode);
    EXPECT_NO_THROW(same.commit()) << "the same content is not a conflict";
    trellis::FileSet other;
    other.add(dir / "k.pem", "two", trellis::kSecretMode);
    EXPECT_EQ(code_of([&] { other.commit(); }), Code::FileExists);
    EXPECT_EQ(trellis::testing::slurp(dir / "k.pem"), "one");
    other.commit(/*overwrite=*/true);
    EXPECT_EQ(trellis::testing::slurp(dir / "k.pem"), "two");
}

}  // namespace
