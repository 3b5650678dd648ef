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
// A request's extension list (X509_REQ_get_extensions); sk_*_pop_free is a macro, so wrap it.
inline void free_extension_list(STACK_OF(X509_EXTENSION) * list) {
    sk_X509_EXTENSION_pop_free(list, X509_EXTENSION_free);
}
using ExtensionsPtr = Owned<STACK_OF(X509_EXTENSION), free_extension_list>;

// The oldest queued OpenSSL error as text ("unknown" if the queue is empty); clears the queue.
std::string openssl_error();

// A read-only memory BIO over `data` (no copy; `data` must outlive the BIO).
BioPtr memory_bio(std::string_view data);
// Everything written to a memory BIO.
std::string bio_contents(BIO* bio);

// The canonical text of an iPAddress SAN (4 or 16 bytes; core's ip_text).
std::string ip_text(const ASN1_OCTET_STRING* ip);

// Owners for what key.cpp and certificate.cpp allocate.
using EkuPtr = Owned<EXTENDED_KEY_USAGE, EXTENDED_KEY_USAGE_free>;
using AlgorPtr = Owned<X509_ALGOR, X509_ALGOR_free>;
using P8InfoPtr = Owned<PKCS8_PRIV_KEY_INFO, PKCS8_PRIV_KEY_INFO_free>;
using X509SigPtr = Owned<X509_SIG, X509_SIG_free>;

// OPENSSL_free is a macro; Owned needs a function. For buffers OpenSSL allocates for us
// (i2d_*, ASN1_STRING_to_UTF8, BN_bn2dec).
inline void free_openssl_memory(void* p) noexcept { OPENSSL_free(p); }
template <class T>
using OpensslBuffer = Owned<T, free_openssl_memory>;

// `bytes` as a string, taking ownership of the OpenSSL buffer (freed even if the copy throws).
inline std::string take_buffer(unsigned char* bytes, int len) {
    const OpensslBuffer<unsigned char> owned(bytes);
    return len < 0 ? std::string() : std::string(reinterpret_cast<const char*>(bytes), static_cast<size_t>(len));
}

}  // namespace trellis::pki::detail
