#include "tls_reload.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include <optional>
#include <vector>

#include "core/error.hpp"
#include "core/files.hpp"
#include "log.hpp"
#include "pki/certificate.hpp"
#include "pki/key.hpp"

namespace trellis::backend {

struct TlsMaterial {
    std::vector<pki::Certificate> certs;  // leaf, then intermediates
    std::optional<pki::PrivateKey> key;
    std::unique_ptr<STACK_OF(X509), void (*)(STACK_OF(X509)*)> chain{nullptr,
                                                                     [](STACK_OF(X509) * s) { sk_X509_free(s); }};
    std::unique_ptr<X509_STORE, void (*)(X509_STORE*)> store{nullptr, X509_STORE_free};
    std::string description;  // for the log: what is served now
};

namespace {

std::string openssl_reason() {
    const unsigned long e = ERR_get_error();
    ERR_clear_error();
    const char* r = e != 0 ? ERR_reason_error_string(e) : nullptr;
    return r != nullptr ? r : "unknown reason";
}

// Every CRL in `data`, PEM (one or more) or a single DER; Code::TlsFailed naming `path` otherwise.
std::vector<X509_CRL*> read_crls(const std::string& data, const std::string& path) {
    std::vector<X509_CRL*> out;
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())),
                                                  &BIO_free);
    while (X509_CRL* crl = PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr)) out.push_back(crl);
    ERR_clear_error();
    if (out.empty()) {
        const auto* p = reinterpret_cast<const unsigned char*>(data.data());
        if (X509_CRL* crl = d2i_X509_CRL(nullptr, &p, static_cast<long>(data.size()))) out.push_back(crl);
    }
    if (out.empty()) throw Error(Code::TlsFailed, path + ": not a CRL (PEM or DER): " + openssl_reason());
    return out;
}

// The store client certificates are verified against: the trusted CAs, and the CRL when there is one.
void load_trust(TlsMaterial& m, const TlsFiles& files) {
    m.store.reset(X509_STORE_new());
    for (const auto& ca : pki::Certificate::all_from_pem(read_file(files.trusted_ca_file), files.trusted_ca_file))
        X509_STORE_add_cert(m.store.get(), ca.get());
    m.description += ", trusting " + files.trusted_ca_file;
    if (files.crl_file.empty()) return;
    const auto crls = read_crls(read_file(files.crl_file), files.crl_file);
    for (X509_CRL* crl : crls) {
        X509_STORE_add_crl(m.store.get(), crl);
        X509_CRL_free(crl);
    }
    // The leaf is checked against its CA's CRL; a client whose CA published none is refused (fail closed).
    X509_STORE_set_flags(m.store.get(), X509_V_FLAG_CRL_CHECK);
    m.description += ", revoking by " + files.crl_file + " (" + std::to_string(crls.size()) + " CRL(s))";
}

std::shared_ptr<const TlsMaterial> load(const TlsFiles& files) {
    auto m = std::make_shared<TlsMaterial>();
    m->certs = pki::Certificate::all_from_pem(read_file(files.cert_file), files.cert_file);
    m->key = pki::PrivateKey::from_pem(read_file(files.key_file), files.key_file);
    const pki::Certificate& leaf = m->certs.front();
    if (!leaf.matches(*m->key))
        throw Error(Code::TlsFailed, files.key_file + " is not the key of " + files.cert_file +
                                         " (a pair half replaced? it is tried again when either file changes)");
    m->chain.reset(sk_X509_new_null());
    for (std::size_t i = 1; i < m->certs.size(); ++i) sk_X509_push(m->chain.get(), m->certs[i].get());
    m->description = files.cert_file + " (" + leaf.common_name() + ", serial " + leaf.serial_decimal() +
                     ", not after " + utc_text(leaf.not_after()) + ")";
    if (!files.trusted_ca_file.empty()) load_trust(*m, files);
    return m;
}

}  // namespace

TlsReloader::TlsReloader(TlsFiles files) : files_(std::move(files)) {
    seen_ = stamps();
    try {
        current_ = load(files_);
    } catch (const Error& e) {
        throw Error(Code::TlsFailed, std::string("cannot load the API's TLS files: ") + e.what());
    }
}

TlsReloader::~TlsReloader() = default;

std::array<FileStamp, 4> TlsReloader::stamps() const {
    return {stamp_of(files_.cert_file), stamp_of(files_.key_file), stamp_of(files_.trusted_ca_file),
            stamp_of(files_.crl_file)};
}

bool TlsReloader::refresh() {
    // Stamps are taken before reading: a file that changes while it is read differs next time.
    const auto now = stamps();
    {
        std::lock_guard lock(mutex_);
        if (now == seen_) return false;
        seen_ = now;
    }
    std::shared_ptr<const TlsMaterial> fresh;
    try {
        fresh = load(files_);
    } catch (const std::exception& e) {
        log(Level::Warn,
            std::string("API TLS files changed but were not taken (still serving the previous ones): ") + e.what());
        return false;
    }
    std::lock_guard lock(mutex_);
    current_ = fresh;
    // Warn, the default level: a certificate changing under a running server is worth seeing.
    log(Level::Warn, "API TLS files reloaded: serving " + fresh->description);
    return true;
}

std::string TlsReloader::serial() const {
    std::lock_guard lock(mutex_);
    return current_->certs.front().serial_decimal();
}

void TlsReloader::install(SSL_CTX* ctx) {
    SSL_CTX_set_cert_cb(ctx, &TlsReloader::on_handshake, this);
    // Every handshake is a full one, so each sees the current certificate, trust and CRL.
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
}

// Runs in OpenSSL's handshake, on the API server's loop thread: nothing may throw out of it.
int TlsReloader::on_handshake(SSL* ssl, void* arg) {
    auto* self = static_cast<TlsReloader*>(arg);
    std::shared_ptr<const TlsMaterial> m;
    try {
        self->refresh();
        std::lock_guard lock(self->mutex_);
        m = self->current_;
    } catch (...) {
        return 0;
    }
    SSL_certs_clear(ssl);  // drop what the context loaded at start, whatever its key type
    if (SSL_use_cert_and_key(ssl, m->certs.front().get(), m->key->get(), m->chain.get(), 1) != 1) return 0;
    if (m->store && SSL_set1_verify_cert_store(ssl, m->store.get()) != 1) return 0;
    return 1;
}

}  // namespace trellis::backend
