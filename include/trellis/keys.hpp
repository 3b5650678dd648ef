// Public API: private keys. RSA (2048..8192), ECDSA (P-256, P-384, P-521) and Ed25519;
// smaller or unknown kinds are refused (Code::KeyUnsupported). No OpenSSL type appears here.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace trellis {

namespace detail {
struct KeyImpl;
}

enum class KeyAlgorithm { Rsa, Ecdsa, Ed25519 };

// For ECDSA `bits` is the curve size (256, 384, 521); for Ed25519 it is ignored.
struct KeySpec {
    KeyAlgorithm algorithm = KeyAlgorithm::Ecdsa;
    int bits = 256;
};

// An immutable private key; copies share it.
class PrivateKey {
  public:
    static PrivateKey generate(const KeySpec& spec = {});
    // PKCS#1, SEC1 or PKCS#8 PEM, optionally encrypted; `source` names the input in errors.
    static PrivateKey from_pem(std::string_view pem, std::string_view source,
                               const std::optional<std::string>& passphrase = std::nullopt);

    std::string pem() const;                                       // unencrypted: write it with kSecretMode
    std::string encrypted_pem(std::string_view passphrase) const;  // PKCS#8, AES-256-CBC
    KeySpec spec() const;

    explicit PrivateKey(std::shared_ptr<const detail::KeyImpl> impl);  // used inside the library
    const detail::KeyImpl& impl() const { return *impl_; }

  private:
    std::shared_ptr<const detail::KeyImpl> impl_;
};

}  // namespace trellis
