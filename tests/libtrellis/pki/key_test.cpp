#include "pki/key.hpp"

#include <gtest/gtest.h>
#include <openssl/pem.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "helpers.hpp"
#include "support.hpp"

namespace trellis::pki {
namespace {

using test::throws_code;

struct KeyCase {
    KeyRequest request;
    std::string pem_label;
    const EVP_MD* digest;
};

TEST(PrivateKey, GeneratesEveryAllowedKindInCfsslsEncoding) {
    const KeyCase cases[] = {
        {{KeyAlgorithm::Rsa, 2048}, "RSA PRIVATE KEY", EVP_sha256()},
        {{KeyAlgorithm::Rsa, 3072}, "RSA PRIVATE KEY", EVP_sha384()},
        {{KeyAlgorithm::Ecdsa, 256}, "EC PRIVATE KEY", EVP_sha256()},
        {{KeyAlgorithm::Ecdsa, 384}, "EC PRIVATE KEY", EVP_sha384()},
        {{KeyAlgorithm::Ecdsa, 521}, "EC PRIVATE KEY", EVP_sha512()},
        {{KeyAlgorithm::Ed25519, 0}, "PRIVATE KEY", nullptr},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(std::string(algorithm_name(c.request.algo)) + " " + std::to_string(c.request.size));
        const PrivateKey key = PrivateKey::generate(c.request);
        const KeyRequest got = key.describe();
        EXPECT_EQ(got.algo, c.request.algo);
        if (c.request.algo != KeyAlgorithm::Ed25519) {
            EXPECT_EQ(got.size, c.request.size);
        }
        EXPECT_EQ(key.signature_digest(), c.digest);
        const std::string pem = key.pem();
        EXPECT_TRUE(pem.starts_with("-----BEGIN " + c.pem_label + "-----\n")) << pem.substr(0, 40);
        const PrivateKey again = PrivateKey::from_pem(pem, "key.pem");
        EXPECT_EQ(EVP_PKEY_eq(key.get(), again.get()), 1);
    }
}

TEST(PrivateKey, BothRsaGeneratorsMakeUsableKeys) {
    for (const PrivateKey& key : {generate_rsa_with_botan(2048), generate_rsa_with_openssl(2048)}) {
        EXPECT_EQ(key.describe().algo, KeyAlgorithm::Rsa);
        EXPECT_EQ(key.describe().size, 2048);
        EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(key.get(), nullptr);
        EXPECT_EQ(EVP_PKEY_check(ctx), 1);
        EVP_PKEY_CTX_free(ctx);
    }
}

// Botan's two primes are made on two threads: the key must still be whole and of the asked size,
// odd sizes included (p has one bit more than q then).
TEST(PrivateKey, ConcurrentPrimesMakeConsistentKeysOfTheAskedSize) {
    for (const int bits : {2048, 2049}) {
        const PrivateKey key = generate_rsa_with_botan(bits);
        EXPECT_EQ(EVP_PKEY_get_bits(key.get()), bits);
        EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(key.get(), nullptr);
        EXPECT_EQ(EVP_PKEY_check(ctx), 1);
        EVP_PKEY_CTX_free(ctx);
    }
}

TEST(PrivateKey, DigestFollowsRsaSizeThresholds) {
    // cfssl's thresholds: SHA-256 below 3072 bits, SHA-384 below 4096, SHA-512 from 4096.
    EXPECT_EQ(PrivateKey::generate({KeyAlgorithm::Rsa, 2048}).signature_digest(), EVP_sha256());
    EXPECT_EQ(PrivateKey::generate({KeyAlgorithm::Rsa, 4096}).signature_digest(), EVP_sha512());
}

TEST(KeyRequest, RefusesWeakAndUnknownKinds) {
    EXPECT_TRUE(throws_code([] { validate({KeyAlgorithm::Rsa, 1024}); }, Code::KeyUnsupported));
    EXPECT_TRUE(throws_code([] { validate({KeyAlgorithm::Rsa, 16384}); }, Code::KeyUnsupported));
    EXPECT_TRUE(throws_code([] { validate({KeyAlgorithm::Ecdsa, 224}); }, Code::KeyUnsupported));
    EXPECT_TRUE(throws_code([] { validate({static_cast<KeyAlgorithm>(42), 256}); }, Code::KeyUnsupported));
    const std::string msg = test::error_message([] { validate({KeyAlgorithm::Rsa, 1024}); });
    EXPECT_NE(msg.find("rsa 2048-8192"), std::string::npos) << msg;
    EXPECT_NO_THROW(validate({KeyAlgorithm::Rsa, 8192}));
    EXPECT_NO_THROW(validate({KeyAlgorithm::Ed25519, 0}));
}

TEST(KeyRequest, NamesTheCurveOfEachEcdsaSizeByOid) {
    EXPECT_EQ(curve_oid({KeyAlgorithm::Ecdsa, 256}), "1.2.840.10045.3.1.7");  // P-256
    EXPECT_EQ(curve_oid({KeyAlgorithm::Ecdsa, 384}), "1.3.132.0.34");
    EXPECT_EQ(curve_oid({KeyAlgorithm::Ecdsa, 521}), "1.3.132.0.35");
    EXPECT_EQ(curve_oid({KeyAlgorithm::Ecdsa, 224}), "");
    EXPECT_EQ(curve_oid({KeyAlgorithm::Rsa, 2048}), "");
    EXPECT_EQ(curve_oid({KeyAlgorithm::Ed25519, 0}), "");
}

std::string pem_of(EVP_PKEY* key, bool traditional = true) {
    BIO* bio = BIO_new(BIO_s_mem());
    if (traditional)
        PEM_write_bio_PrivateKey_traditional(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
    else
        PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<size_t>(len));
    BIO_free(bio);
    return out;
}

TEST(PrivateKey, RefusesWeakKeysWhenReading) {
    EVP_PKEY* rsa1024 = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024});
    const std::string weak = pem_of(rsa1024);
    EVP_PKEY_free(rsa1024);
    EXPECT_TRUE(throws_code([&] { PrivateKey::from_pem(weak, "weak.pem"); }, Code::KeyUnsupported));

    EVP_PKEY* p224 = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-224");
    const std::string curve = pem_of(p224);
    EVP_PKEY_free(p224);
    EXPECT_TRUE(throws_code([&] { PrivateKey::from_pem(curve, "p224.pem"); }, Code::KeyUnsupported));
}

// A PEM block with its label replaced, or its DER body extended by `extra` bytes.
std::string reframed(const std::string& pem, const std::string& label, const std::string& extra = "") {
    BIO* in = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    char *name = nullptr, *header = nullptr;
    unsigned char* der = nullptr;
    long len = 0;
    EXPECT_EQ(PEM_read_bio(in, &name, &header, &der, &len), 1);
    std::string body(reinterpret_cast<char*>(der), static_cast<size_t>(len));
    body += extra;
    BIO* out = BIO_new(BIO_s_mem());
    PEM_write_bio(out, label.c_str(), "", reinterpret_cast<const unsigned char*>(body.data()),
                  static_cast<long>(body.size()));
    char* data = nullptr;
    const long size = BIO_get_mem_data(out, &data);
    std::string result(data, static_cast<size_t>(size));
    OPENSSL_free(name), OPENSSL_free(header), OPENSSL_free(der), BIO_free(in), BIO_free(out);
    return result;
}

// What OpenSSL's generic reader makes of a PEM text: the reference our reader must match.
bool generic_reads(const std::string& pem, EVP_PKEY* expected) {
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    const bool same = key != nullptr && EVP_PKEY_eq(key, expected) == 1;
    EVP_PKEY_free(key);
    return same;
}

// Keys are decoded by their PEM label for speed; every label, a wrong label and trailing bytes must be
// judged exactly as OpenSSL's generic reader judges them.
TEST(PrivateKey, ReadsEveryLabelAsTheGenericReaderDoes) {
    for (const KeyRequest request : {KeyRequest{KeyAlgorithm::Ecdsa, 256}, KeyRequest{KeyAlgorithm::Ecdsa, 384},
                                     KeyRequest{KeyAlgorithm::Rsa, 2048}, KeyRequest{KeyAlgorithm::Ed25519, 0}}) {
        const PrivateKey key = PrivateKey::generate(request);
        const std::string pkcs8 = pem_of(key.get(), false);
        std::vector<std::string> texts = {pkcs8, reframed(pkcs8, "PRIVATE KEY", std::string("\0", 1)),
                                          reframed(pkcs8, "EC PRIVATE KEY"), reframed(pkcs8, "RSA PRIVATE KEY"),
                                          "junk\n" + pkcs8};
        // Ed25519 has no traditional form: its PKCS#8 stands in.
        const std::string traditional = request.algo == KeyAlgorithm::Ed25519 ? pkcs8 : pem_of(key.get(), true);
        for (const char* label : {"PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY"}) {
            texts.push_back(reframed(traditional, label));
            texts.push_back(reframed(traditional, label, "xy"));
        }
        for (const std::string& text : texts) {
            const bool expected = generic_reads(text, key.get());
            bool ours = false;
            try {
                ours = EVP_PKEY_eq(PrivateKey::from_pem(text, "k").get(), key.get()) == 1;
            } catch (const Error&) {
            }
            EXPECT_EQ(ours, expected) << text;
        }
        EXPECT_EQ(EVP_PKEY_eq(PrivateKey::from_pem(pkcs8, "k").get(), key.get()), 1);
        EXPECT_EQ(EVP_PKEY_eq(PrivateKey::from_pem(traditional, "k").get(), key.get()), 1);
    }
}

TEST(PrivateKey, BadInputHasStableCodes) {
    EXPECT_TRUE(throws_code([] { PrivateKey::from_pem("", "empty.pem"); }, Code::KeyDecodeFailed));
    EXPECT_TRUE(throws_code([] { PrivateKey::from_pem("hello", "text.pem"); }, Code::KeyDecodeFailed));
    EXPECT_TRUE(throws_code(
        [] { PrivateKey::from_pem("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n", "bad.pem"); },
        Code::KeyParseFailed));
    const std::string msg = test::error_message([] { PrivateKey::from_pem("hello", "dir/text.pem"); });
    EXPECT_TRUE(msg.starts_with("dir/text.pem: ")) << msg;
}

TEST(PrivateKey, EncryptedPkcs8RoundTripsWithScrypt) {
    const PrivateKey key = PrivateKey::generate({KeyAlgorithm::Ecdsa, 256});
    const std::string pem = key.encrypted_pem("s3cret");
    EXPECT_TRUE(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    EXPECT_EQ(pem.find(key.pem()), std::string::npos);
    EXPECT_EQ(EVP_PKEY_eq(PrivateKey::from_pem(pem, "k", std::string("s3cret")).get(), key.get()), 1);
    EXPECT_TRUE(throws_code([&] { PrivateKey::from_pem(pem, "k"); }, Code::KeyEncrypted));
    EXPECT_TRUE(throws_code([&] { PrivateKey::from_pem(pem, "k", std::string("wrong")); }, Code::KeyBadPassphrase));

    // The openssl CLI must agree on the format (PBES2, scrypt, AES-256-CBC).
    trellis::testing::TempDir dir;
    trellis::testing::spit(dir / "k.pem", pem);
    const auto r =
        trellis::testing::run({"openssl", "pkey", "-in", (dir / "k.pem").string(), "-passin", "pass:s3cret", "-noout"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const auto info = trellis::testing::run({"openssl", "asn1parse", "-in", (dir / "k.pem").string()});
    EXPECT_NE(info.out.find(":scrypt"), std::string::npos) << info.out;
    EXPECT_NE(info.out.find("aes-256-cbc"), std::string::npos) << info.out;
}

TEST(PrivateKey, ReadsLegacyEncryptedPem) {
    const PrivateKey key = PrivateKey::generate({KeyAlgorithm::Rsa, 2048});
    BIO* bio = BIO_new(BIO_s_mem());
    const std::string pass = "legacy";
    PEM_write_bio_PrivateKey_traditional(bio, key.get(), EVP_aes_256_cbc(),
                                         reinterpret_cast<const unsigned char*>(pass.data()),
                                         static_cast<int>(pass.size()), nullptr, nullptr);
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio, &data);
    const std::string pem(data, static_cast<size_t>(len));
    BIO_free(bio);
    ASSERT_NE(pem.find("Proc-Type: 4,ENCRYPTED"), std::string::npos);
    EXPECT_EQ(EVP_PKEY_eq(PrivateKey::from_pem(pem, "k", pass).get(), key.get()), 1);
    EXPECT_TRUE(throws_code([&] { PrivateKey::from_pem(pem, "k"); }, Code::KeyEncrypted));
    EXPECT_TRUE(throws_code([&] { PrivateKey::from_pem(pem, "k", std::string("nope")); }, Code::KeyBadPassphrase));
}

}  // namespace
}  // namespace trellis::pki
