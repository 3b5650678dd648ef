// ECDSA keys are generated through the (deprecated) EC_KEY API on purpose: such "legacy" keys
// encode their public half and PEM form through direct ASN.1 code, while OpenSSL 3 provider keys go
// through encoder lookups costing 100-250 us per call (measured: X509_REQ_set_pubkey 247 us vs 8 us,
// SEC1 PEM 97 us vs 18 us), more than the signature itself on provisioning's hot path.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "pki/key.hpp"

#include <openssl/ec.h>

#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>

#include <botan/auto_rng.h>
#include <botan/numthry.h>
#include <botan/pkcs8.h>
#include <botan/rsa.h>
#include <array>
#include <atomic>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

#include "core/error.hpp"
#include "pki/openssl_util.hpp"

namespace trellis::pki {
namespace {

using namespace detail;

struct Curve {
    int size;
    int nid;
    const EVP_MD* (*digest)();
};
// cfssl's ECDSA sizes, the curve each names, and the digest Go's x509 pairs with it.
constexpr std::array<Curve, 3> kCurves{{
    {256, NID_X9_62_prime256v1, EVP_sha256},
    {384, NID_secp384r1, EVP_sha384},
    {521, NID_secp521r1, EVP_sha512},
}};

const Curve* find_curve(int size) {
    for (const auto& c : kCurves)
        if (c.size == size) return &c;
    return nullptr;
}

constexpr int kRsaMin = 2048;
constexpr int kRsaMax = 8192;

PrivateKey from_pkcs8_der(const uint8_t* der, size_t len) {
    const unsigned char* p = der;
    EVP_PKEY* key = d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(len));
    if (key == nullptr) throw Error(Code::KeyGenerationFailed, "converting a generated key failed: " + openssl_error());
    return PrivateKey(key);
}

PrivateKey keygen(const char* type, const char* param) {
    EVP_PKEY* key =
        param ? EVP_PKEY_Q_keygen(nullptr, nullptr, type, param) : EVP_PKEY_Q_keygen(nullptr, nullptr, type);
    if (key == nullptr)
        throw Error(Code::KeyGenerationFailed, std::string("generating a ") + type + " key failed: " + openssl_error());
    return PrivateKey(key);
}

// A key's curve is copied from one group made per curve: building a group from its parameters costs
// as much as generating the key itself.
const EC_GROUP* curve_group(int curve_nid) {
    static const auto groups = [] {
        std::array<Owned<EC_GROUP, EC_GROUP_free>, kCurves.size()> out;
        for (size_t i = 0; i < kCurves.size(); ++i) out[i].reset(EC_GROUP_new_by_curve_name(kCurves[i].nid));
        return out;
    }();
    for (size_t i = 0; i < kCurves.size(); ++i)
        if (kCurves[i].nid == curve_nid) return groups[i].get();
    return nullptr;
}

PrivateKey generate_ec(int curve_nid) {
    Owned<EC_KEY, EC_KEY_free> ec(EC_KEY_new());
    const EC_GROUP* group = curve_group(curve_nid);
    if (!ec || group == nullptr || EC_KEY_set_group(ec.get(), group) != 1 || EC_KEY_generate_key(ec.get()) != 1)
        throw Error(Code::KeyGenerationFailed, "generating an ecdsa key failed: " + openssl_error());
    EC_KEY_set_asn1_flag(ec.get(), OPENSSL_EC_NAMED_CURVE);
    PkeyPtr key(EVP_PKEY_new());
    if (!key || EVP_PKEY_assign_EC_KEY(key.get(), ec.get()) != 1)
        throw Error(Code::KeyGenerationFailed, "wrapping an ecdsa key failed: " + openssl_error());
    ec.release();  // now owned by `key`
    return PrivateKey(key.release());
}

struct PassphraseData {
    const std::optional<std::string>* passphrase;
    bool asked = false;
};

int passphrase_callback(char* buf, int size, int /*rwflag*/, void* u) {
    auto* data = static_cast<PassphraseData*>(u);
    data->asked = true;
    if (!data->passphrase->has_value()) return -1;
    const std::string& pass = **data->passphrase;
    if (pass.size() > static_cast<size_t>(size)) return -1;
    std::copy(pass.begin(), pass.end(), buf);
    return static_cast<int>(pass.size());
}

bool looks_encrypted(std::string_view pem) {
    return pem.find("-----BEGIN ENCRYPTED PRIVATE KEY-----") != std::string_view::npos ||
           pem.find("Proc-Type: 4,ENCRYPTED") != std::string_view::npos;
}

// Told the key's type by a SEC1 or PKCS#1 label (what cfssl and Trellis write), OpenSSL 3 decodes an
// unencrypted key about 3x faster than its generic reader, which tries every decoder it has (0.095
// against 0.31 ms here; a backend reads four keys before its etcd starts). PKCS#8 gains nothing that
// way, and d2i_AutoPrivateKey would accept a SEC1 body under its label, which the generic reader
// refuses. Anything else, any failure or any byte left over takes the generic reader, so what is
// accepted and every error stay as they were (tests compare the two).
EVP_PKEY* decode_by_label(std::string_view pem, PassphraseData& data) {
    auto bio = memory_bio(pem);
    char* name = nullptr;
    unsigned char* der = nullptr;
    long len = 0;
    if (PEM_bytes_read_bio(&der, &len, &name, PEM_STRING_EVP_PKEY, bio.get(), passphrase_callback, &data) != 1)
        return nullptr;
    const std::string_view label(name);
    const int type = label == PEM_STRING_ECPRIVATEKEY ? EVP_PKEY_EC : label == PEM_STRING_RSA ? EVP_PKEY_RSA : 0;
    const unsigned char* p = der;
    EVP_PKEY* key = type != 0 ? d2i_PrivateKey(type, nullptr, &p, len) : nullptr;
    const bool whole = p == der + len;
    OPENSSL_free(name);
    OPENSSL_free(der);
    if (key != nullptr && !whole) {
        EVP_PKEY_free(key);
        return nullptr;
    }
    return key;
}

EVP_PKEY* read_private_key(std::string_view pem, PassphraseData& data, bool encrypted) {
    if (!encrypted)
        if (EVP_PKEY* key = decode_by_label(pem, data)) return key;
    ERR_clear_error();
    auto bio = memory_bio(pem);
    return PEM_read_bio_PrivateKey(bio.get(), nullptr, passphrase_callback, &data);
}

std::string supported_text() { return "supported: rsa 2048-8192, ecdsa 256/384/521, ed25519"; }

}  // namespace

std::string_view algorithm_name(KeyAlgorithm algo) {
    switch (algo) {
        case KeyAlgorithm::Rsa:
            return "rsa";
        case KeyAlgorithm::Ecdsa:
            return "ecdsa";
        case KeyAlgorithm::Ed25519:
            return "ed25519";
    }
    return "unknown";
}

std::string curve_oid(const KeyRequest& request) {
    const Curve* curve = request.algo == KeyAlgorithm::Ecdsa ? find_curve(request.size) : nullptr;
    if (curve == nullptr) return "";
    std::array<char, 64> text{};
    const int n = OBJ_obj2txt(text.data(), static_cast<int>(text.size()), OBJ_nid2obj(curve->nid), 1);
    return n > 0 && static_cast<size_t>(n) < text.size() ? std::string(text.data(), n) : "";
}

void validate(const KeyRequest& request) {
    switch (request.algo) {
        case KeyAlgorithm::Rsa:
            if (request.size < kRsaMin || request.size > kRsaMax)
                throw Error(Code::KeyUnsupported, "rsa key size " + std::to_string(request.size) + " is not allowed (" +
                                                      supported_text() + ")");
            return;
        case KeyAlgorithm::Ecdsa:
            if (find_curve(request.size) == nullptr)
                throw Error(Code::KeyUnsupported, "ecdsa key size " + std::to_string(request.size) +
                                                      " is not allowed (" + supported_text() + ")");
            return;
        case KeyAlgorithm::Ed25519:
            return;
    }
    throw Error(Code::KeyUnsupported, "unknown key algorithm (" + supported_text() + ")");
}

namespace {

struct SearchStopped {};

// Botan's prime search cannot be stopped from outside, but it draws a random Miller-Rabin base for
// every candidate that passes its sieve (every few tenths of a millisecond): an RNG that throws once
// the search is no longer needed stops it there. Botan's state is all RAII, so it unwinds cleanly.
class StoppableRng final : public Botan::RandomNumberGenerator {
  public:
    StoppableRng(Botan::RandomNumberGenerator& rng, const std::atomic<bool>& stop) : rng_(rng), stop_(stop) {}
    void randomize(uint8_t output[], size_t length) override {
        if (stop_.load(std::memory_order_relaxed)) throw SearchStopped{};
        rng_.randomize(output, length);
    }
    bool accepts_input() const override { return false; }
    void add_entropy(const uint8_t[], size_t) override {}
    std::string name() const override { return rng_.name(); }
    void clear() override {}
    bool is_seeded() const override { return rng_.is_seeded(); }

  private:
    Botan::RandomNumberGenerator& rng_;
    const std::atomic<bool>& stop_;
};

// p and q of an RSA key, searched for by two threads together: each thread searches until both are
// found, so that the second prime is a race as well. Finding a prime is a memoryless search, so the
// key takes one search's expected time on two cores, where a thread per prime waits for the slower
// of two (1.5 times as long on average).
std::array<Botan::BigInt, 2> rsa_primes(const std::array<size_t, 2>& bits, const Botan::BigInt& e) {
    std::mutex mutex;
    std::array<std::optional<Botan::BigInt>, 2> found;
    std::atomic<bool> stop{false};
    std::exception_ptr failed;
    const auto search = [&](size_t slot) {
        thread_local Botan::AutoSeeded_RNG rng;
        StoppableRng stoppable(rng, stop);
        try {
            for (;;) {
                Botan::BigInt prime = Botan::generate_rsa_prime(rng, stoppable, bits[slot], e);
                const std::lock_guard lock(mutex);
                for (size_t i : {slot, 1 - slot})
                    if (!found[i] && bits[i] == bits[slot]) {
                        found[i] = std::move(prime);
                        break;
                    }
                if (found[0] && found[1]) {
                    stop.store(true);
                    return;
                }
                slot = found[0] ? 1 : 0;
            }
        } catch (const SearchStopped&) {
        } catch (...) {
            const std::lock_guard lock(mutex);
            failed = std::current_exception();
            stop.store(true);
        }
    };
    {
        const std::jthread other(search, 1);
        search(0);
    }
    if (failed) std::rethrow_exception(failed);
    return {std::move(*found[0]), std::move(*found[1])};
}

// What Botan's RSA_PrivateKey(rng, bits) does, with its two primes searched for at once on two threads
// (rsa_primes): finding them is all of the cost. The same checks follow: p and q far enough apart, n
// of exactly `bits` bits; the private exponent is Botan's own (RSA_PrivateKey(p, q, e)).
Botan::RSA_PrivateKey rsa_with_concurrent_primes(size_t bits) {
    const Botan::BigInt e(65537);
    const std::array<size_t, 2> sizes{(bits + 1) / 2, bits - (bits + 1) / 2};
    for (int attempt = 0; attempt < 10; ++attempt) {
        const auto [p, q] = rsa_primes(sizes, e);
        if ((p - q).bits() < bits / 2 - 100 || (p * q).bits() != bits) continue;
        return Botan::RSA_PrivateKey(p, q, e);
    }
    throw Botan::Internal_Error("no RSA key after 10 attempts (RNG failure?)");
}

}  // namespace

PrivateKey generate_rsa_with_botan(int bits) {
    try {
        const Botan::RSA_PrivateKey key = rsa_with_concurrent_primes(static_cast<size_t>(bits));
        const Botan::secure_vector<uint8_t> der = Botan::PKCS8::BER_encode(key);
        return from_pkcs8_der(der.data(), der.size());
    } catch (const Botan::Exception& e) {
        throw Error(Code::KeyGenerationFailed, std::string("generating an rsa key with Botan failed: ") + e.what());
    }
}

PrivateKey generate_rsa_with_openssl(int bits) {
    EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits));
    if (key == nullptr) throw Error(Code::KeyGenerationFailed, "generating an rsa key failed: " + openssl_error());
    return PrivateKey(key);
}

PrivateKey PrivateKey::generate(const KeyRequest& request) {
    validate(request);
    switch (request.algo) {
        case KeyAlgorithm::Rsa:
            // bench/keygen (build/bench/keygen 40 2048), in-process on this 2-core machine, three runs:
            //   Botan 2.19.3 with both primes searched for by two threads 34.7-36.9 ms/key, OpenSSL
            //   3.0 145-162 ms/key: Botan is 4.2-4.7x faster. Botan's key is handed to OpenSSL as
            //   PKCS#8 DER, which costs well under a millisecond.
            return generate_rsa_with_botan(request.size);
        case KeyAlgorithm::Ecdsa:
            return generate_ec(find_curve(request.size)->nid);
        case KeyAlgorithm::Ed25519:
            return keygen("ED25519", nullptr);
    }
    throw Error(Code::KeyUnsupported, "unknown key algorithm (" + supported_text() + ")");
}

PrivateKey::PrivateKey(EVP_PKEY* key) : key_(key, EVP_PKEY_free) {
    if (key == nullptr) throw Error(Code::Internal, "PrivateKey constructed from a null key");
}

PrivateKey PrivateKey::from_pem(std::string_view pem, std::string_view source,
                                const std::optional<std::string>& passphrase) {
    if (pem.find("-----BEGIN") == std::string_view::npos || pem.find("PRIVATE KEY-----") == std::string_view::npos)
        throw Error(Code::KeyDecodeFailed,
                    located(source, "no PEM private key found (expected \"-----BEGIN ... PRIVATE KEY-----\")"));
    const bool encrypted = looks_encrypted(pem);
    if (encrypted && !passphrase)
        throw Error(Code::KeyEncrypted, located(source, "the private key is encrypted: give its passphrase"));
    ERR_clear_error();
    PassphraseData data{&passphrase};
    EVP_PKEY* key = read_private_key(pem, data, encrypted);
    if (key == nullptr) {
        const std::string why = openssl_error();
        if (encrypted)
            throw Error(Code::KeyBadPassphrase,
                        located(source, "cannot decrypt the private key: wrong passphrase (" + why + ")"));
        throw Error(Code::KeyParseFailed, located(source, "cannot parse the private key: " + why));
    }
    PrivateKey out(key);
    const KeyRequest kind = out.describe();
    if (kind.algo == KeyAlgorithm::Rsa && kind.size < kRsaMin)
        throw Error(Code::KeyUnsupported, located(source, "rsa key of " + std::to_string(kind.size) +
                                                              " bits is too weak (" + supported_text() + ")"));
    if (kind.algo == KeyAlgorithm::Ecdsa && find_curve(kind.size) == nullptr)
        throw Error(Code::KeyUnsupported, located(source, "ecdsa key on a " + std::to_string(kind.size) +
                                                              "-bit curve is not allowed (" + supported_text() + ")"));
    return out;
}

std::string PrivateKey::pem() const {
    BioPtr bio(BIO_new(BIO_s_mem()));
    // cfssl writes RSA as PKCS#1 and ECDSA as SEC1 ("traditional"); Ed25519 has only PKCS#8.
    const int id = EVP_PKEY_get_base_id(key_.get());
    const int ok =
        (id == EVP_PKEY_RSA || id == EVP_PKEY_EC)
            ? PEM_write_bio_PrivateKey_traditional(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr)
            : PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr);
    if (ok != 1) throw Error(Code::Internal, "writing a private key failed: " + openssl_error());
    return bio_contents(bio.get());
}

std::string PrivateKey::encrypted_pem(std::string_view passphrase) const {
    // PBES2 with scrypt (N=2^14, r=8, p=1: about 16 MiB and 50 ms per try) and AES-256-CBC; OpenSSL's
    // default PBKDF2 count (2048) is too cheap against guessing.
    AlgorPtr alg(PKCS5_pbe2_set_scrypt(EVP_aes_256_cbc(), nullptr, 0, nullptr, 1 << 14, 8, 1));
    if (!alg) throw Error(Code::Internal, "setting up key encryption failed: " + openssl_error());
    const P8InfoPtr p8(EVP_PKEY2PKCS8(key_.get()));
    if (!p8) throw Error(Code::Internal, "encoding a private key failed: " + openssl_error());
    const X509SigPtr sig(PKCS8_set0_pbe(passphrase.data(), static_cast<int>(passphrase.size()), p8.get(), alg.get()));
    if (!sig) throw Error(Code::Internal, "encrypting a private key failed: " + openssl_error());
    alg.release();  // set0: now owned by `sig`
    BioPtr bio(BIO_new(BIO_s_mem()));
    const int ok = PEM_write_bio_PKCS8(bio.get(), sig.get());
    if (ok != 1) throw Error(Code::Internal, "writing an encrypted key failed: " + openssl_error());
    return bio_contents(bio.get());
}

KeyRequest PrivateKey::describe() const {
    const int id = EVP_PKEY_get_base_id(key_.get());
    switch (id) {
        case EVP_PKEY_RSA:
            return {KeyAlgorithm::Rsa, EVP_PKEY_get_bits(key_.get())};
        case EVP_PKEY_EC:
            return {KeyAlgorithm::Ecdsa, EVP_PKEY_get_bits(key_.get())};
        case EVP_PKEY_ED25519:
            return {KeyAlgorithm::Ed25519, 256};
        default:
            throw Error(Code::KeyUnsupported,
                        std::string("key type ") + OBJ_nid2sn(id) + " is not supported (" + supported_text() + ")");
    }
}

const EVP_MD* PrivateKey::signature_digest() const {
    const KeyRequest kind = describe();
    switch (kind.algo) {
        case KeyAlgorithm::Rsa:
            // cfssl's signer.DefaultSigAlgo: SHA-512 from 4096 bits, SHA-384 from 3072.
            return kind.size >= 4096 ? EVP_sha512() : kind.size >= 3072 ? EVP_sha384() : EVP_sha256();
        case KeyAlgorithm::Ecdsa: {
            const Curve* c = find_curve(kind.size);
            return c ? c->digest() : EVP_sha512();
        }
        case KeyAlgorithm::Ed25519:
            return nullptr;
    }
    return EVP_sha256();
}

}  // namespace trellis::pki
