// Private keys: generation (RSA, ECDSA P-256/384/521, Ed25519), PEM in and out
// in the encodings cfssl writes, optional passphrase encryption, and the
// signature digest cfssl would pick for a key.
#pragma once

#include <openssl/evp.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace trellis::pki {

enum class KeyAlgorithm { Rsa, Ecdsa, Ed25519 };

// cfssl's "key" object: {"algo":"rsa","size":2048}. For ECDSA, size is the
// curve's bit size (256, 384, 521); for Ed25519 it is ignored.
struct KeyRequest {
    KeyAlgorithm algo = KeyAlgorithm::Ecdsa;  // cfssl's default when "key" is absent
    int size = 256;
};

// "rsa", "ecdsa", "ed25519" (cfssl's spellings).
std::string_view algorithm_name(KeyAlgorithm algo);
// Throws Code::KeyUnsupported for RSA outside 2048..8192, other EC sizes, unknown names.
void validate(const KeyRequest& request);
// The dotted OID of the curve an ECDSA request names ("1.2.840.10045.3.1.7" for 256); "" for any other.
std::string curve_oid(const KeyRequest& request);

class PrivateKey {
  public:
    // Generates a fresh key; RSA uses whichever of Botan and OpenSSL is faster here.
    static PrivateKey generate(const KeyRequest& request);
    // PKCS#1, SEC1 or PKCS#8 PEM, optionally encrypted. `source` names the file in errors.
    // An encrypted key without passphrase is Code::KeyEncrypted; a wrong one Code::KeyBadPassphrase.
    static PrivateKey from_pem(std::string_view pem, std::string_view source,
                               const std::optional<std::string>& passphrase = std::nullopt);
    // Takes ownership of an EVP_PKEY.
    explicit PrivateKey(EVP_PKEY* key);

    // cfssl's encodings: "RSA PRIVATE KEY" (PKCS#1), "EC PRIVATE KEY" (SEC1), Ed25519 "PRIVATE KEY" (PKCS#8).
    std::string pem() const;
    // PKCS#8 "ENCRYPTED PRIVATE KEY", AES-256-CBC with a strong KDF.
    std::string encrypted_pem(std::string_view passphrase) const;

    KeyRequest describe() const;
    // RSA: SHA-256 under 3072 bits, SHA-384 under 7680, else SHA-512; ECDSA by curve; Ed25519: nullptr.
    const EVP_MD* signature_digest() const;
    EVP_PKEY* get() const { return key_.get(); }

  private:
    std::shared_ptr<EVP_PKEY> key_;
};

// The two RSA generators PrivateKey::generate chooses between; exposed so that
// bench/keygen can measure them side by side in-process.
PrivateKey generate_rsa_with_botan(int bits);
PrivateKey generate_rsa_with_openssl(int bits);

}  // namespace trellis::pki
