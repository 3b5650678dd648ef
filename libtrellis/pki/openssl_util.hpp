// Internal to the pki part: owning handles for OpenSSL objects and the one
// place that turns OpenSSL's error queue into text for our messages.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>
#include <string_view>

namespace trellis::pki::detail {

template <auto Fn>
struct Deleter {
    template <class T>
    void operator()(T* p) const noexcept {
        Fn(p);
    }
};
template <class T, auto Fn>
using Owned = std::unique_ptr<T, Deleter<Fn>>;

using BioPtr = Owned<BIO, BIO_free_all>;
using BnPtr = Owned<BIGNUM, BN_free>;
using X509Ptr = Owned<X509, X509_free>;
using ReqPtr = Owned<X509_REQ, X509_REQ_free>;
using NamePtr = Owned<X509_NAME, X509_NAME_free>;
using GenNamesPtr = Owned<GENERAL_NAMES, GENERAL_NAMES_free>;
using PkeyPtr = Owned<EVP_PKEY, EVP_PKEY_free>;
using PkeyCtxPtr = Owned<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;

// The oldest queued OpenSSL error as text ("unknown" if the queue is empty); clears the queue.
std::string openssl_error();

// A read-only memory BIO over `data` (no copy; `data` must outlive the BIO).
BioPtr memory_bio(std::string_view data);
// Everything written to a memory BIO.
std::string bio_contents(BIO* bio);

// Colon-separated upper-case hex, as cfssl prints key identifiers ("AB:CD:...").
std::string colon_hex(const unsigned char* data, size_t len);

}  // namespace trellis::pki::detail
