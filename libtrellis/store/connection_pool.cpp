#include "store/connection_pool.hpp"

#include <httplib.h>

#include "store/etcd_client.hpp"

namespace trellis::store {

TlsIdentity tls_identity(const TlsFiles& files) {
    return {stamp_of(files.cert_file), stamp_of(files.key_file), stamp_of(files.ca_file)};
}

ConnectionPool::Lease::Lease(ConnectionPool* pool, std::string endpoint, TlsIdentity identity,
                             std::unique_ptr<httplib::Client> c, bool reused)
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
    std::vector<std::unique_ptr<httplib::Client>> stale;  // closed outside the lock
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
                               std::unique_ptr<httplib::Client> c) {
    const std::lock_guard lock(mutex_);
    Idle& idle = idle_[endpoint];
    // Made with files since replaced, or one too many: closed (by `c`'s destructor, after the lock).
    if (idle.identity != identity || idle.clients.size() >= limit_) return;
    idle.clients.push_back(std::move(c));
}

std::size_t ConnectionPool::idle(const std::string& endpoint) {
    const std::lock_guard lock(mutex_);
    const auto it = idle_.find(endpoint);
    return it == idle_.end() ? 0 : it->second.clients.size();
}

}  // namespace trellis::store
