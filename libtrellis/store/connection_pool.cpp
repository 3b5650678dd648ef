#include "store/connection_pool.hpp"

#include <httplib.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/error.hpp"
#include "core/files.hpp"
#include "store/etcd_client.hpp"

namespace trellis::store {

std::shared_ptr<const ClientCredentials> read_client_credentials(const TlsFiles& files) {
    try {
        const std::string cert_pem = read_file(files.cert_file), key_pem = read_file(files.key_file);
        const std::unique_ptr<BIO, decltype(&BIO_free)> cert_bio(BIO_new_mem_buf(cert_pem.data(), int(cert_pem.size())),
                                                                 &BIO_free),
            key_bio(BIO_new_mem_buf(key_pem.data(), int(key_pem.size())), &BIO_free);
        if (!cert_bio || !key_bio) return nullptr;
        // No passphrase callback: an encrypted key fails here rather than asking on a terminal.
        const auto no_passphrase = [](char*, int, int, void*) { return 0; };
        std::shared_ptr<X509> cert(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr), &X509_free);
        std::shared_ptr<EVP_PKEY> key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, no_passphrase, nullptr),
                                      &EVP_PKEY_free);
        ERR_clear_error();  // a failed parse leaves its reasons: not this thread's next request's
        if (!cert || !key || X509_check_private_key(cert.get(), key.get()) != 1) return nullptr;
        return std::make_shared<ClientCredentials>(ClientCredentials{std::move(cert), std::move(key)});
    } catch (const Error&) {  // unreadable, too large, not a regular file
        return nullptr;
    }
}

TlsIdentity tls_identity(const TlsFiles& files) {
    return {stamp_of(files.cert_file), stamp_of(files.key_file), stamp_of(files.ca_file)};
}

ConnectionPool::Lease::Lease(ConnectionPool* pool, std::string endpoint, TlsIdentity identity,
                             std::unique_ptr<httplib::ClientImpl> c, bool reused)
    : pool_(pool),
      endpoint_(std::move(endpoint)),
      identity_(std::move(identity)),
      client_(std::move(c)),
      reused_(reused) {}

ConnectionPool::Lease::Lease(Lease&& other) noexcept = default;

ConnectionPool::Lease::~Lease() {
    if (keep_ && client_ && pool_ != nullptr) pool_->give_back(endpoint_, identity_, std::move(client_));
}

ConnectionPool::ConnectionPool(std::size_t idle_per_endpoint) : limit_(idle_per_endpoint) {}

ConnectionPool::~ConnectionPool() = default;

ConnectionPool::Lease ConnectionPool::acquire(const std::string& endpoint, const TlsIdentity& identity,
                                              const Dial& dial, bool fresh) {
    std::vector<std::unique_ptr<httplib::ClientImpl>> stale;  // closed outside the lock
    {
        const std::lock_guard lock(mutex_);
        Idle& idle = idle_[endpoint];
        if (idle.identity != identity) {
            stale.swap(idle.clients);
            idle.identity = identity;
        }
        if (!fresh && !idle.clients.empty()) {
            auto client = std::move(idle.clients.back());
            idle.clients.pop_back();
            return Lease(this, endpoint, identity, std::move(client), true);
        }
    }
    return Lease(this, endpoint, identity, dial(), false);
}

void ConnectionPool::give_back(const std::string& endpoint, const TlsIdentity& identity,
                               std::unique_ptr<httplib::ClientImpl> c) {
    const std::lock_guard lock(mutex_);
    Idle& idle = idle_[endpoint];
    // Made with files since replaced, or one too many: closed (by `c`'s destructor, after the lock).
    if (idle.identity != identity || idle.clients.size() >= limit_) return;
    idle.clients.push_back(std::move(c));
}

std::shared_ptr<const ClientCredentials> ConnectionPool::credentials(const TlsIdentity& identity,
                                                                     const LoadCredentials& load) {
    const std::lock_guard lock(credentials_mutex_);
    if (!credentials_ || credentials_identity_ != identity) {
        credentials_ = load();
        credentials_identity_ = identity;
    }
    return credentials_;
}

std::size_t ConnectionPool::idle(const std::string& endpoint) {
    const std::lock_guard lock(mutex_);
    const auto it = idle_.find(endpoint);
    return it == idle_.end() ? 0 : it->second.clients.size();
}

}  // namespace trellis::store
