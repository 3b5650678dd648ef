// Kept-alive connections to etcd, shared by every thread of a process: a health check then costs
// requests, not TLS handshakes (a handshake and its certificate loading cost more than etcd's answer).
// A connection is lent to one caller at a time; it comes back only after a clean answer, and only
// while the TLS files it was made with are unchanged, so a renewed certificate is used at once.
#pragma once

#include <array>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <openssl/types.h>

#include "core/file_stamp.hpp"

namespace httplib {
class ClientImpl;
}

namespace trellis::store {

struct TlsFiles;
// A client certificate and its key, parsed (SSL contexts take references: one pair serves every dial).
struct ClientCredentials {
    std::shared_ptr<X509> cert;
    std::shared_ptr<EVP_PKEY> key;
};
// The pair `files` names (PEM; an unencrypted key that matches the certificate), or null.
std::shared_ptr<const ClientCredentials> read_client_credentials(const TlsFiles& files);

// The TLS files' stamps (cert, key, CA): a renewal, which renames new files into place, changes them.
using TlsIdentity = std::array<FileStamp, 3>;
TlsIdentity tls_identity(const TlsFiles& files);

class ConnectionPool {
  public:
    // One connection, lent. Destroyed without keep(): the connection is closed.
    class Lease {
      public:
        Lease(ConnectionPool* pool, std::string endpoint, TlsIdentity identity, std::unique_ptr<httplib::ClientImpl> c,
              bool reused);
        Lease(Lease&&) noexcept;
        Lease& operator=(Lease&&) = delete;
        ~Lease();
        httplib::ClientImpl& client() { return *client_; }
        bool reused() const { return reused_; }  // kept from an earlier request: the member may have closed it
        void keep() { keep_ = true; }            // it answered cleanly: lend it again

      private:
        ConnectionPool* pool_;
        std::string endpoint_;
        TlsIdentity identity_;
        std::unique_ptr<httplib::ClientImpl> client_;
        bool reused_ = false, keep_ = false;
    };
    using Dial = std::function<std::unique_ptr<httplib::ClientImpl>()>;

    // At most `idle_per_endpoint` idle connections are kept per endpoint; more callers at once dial more.
    explicit ConnectionPool(std::size_t idle_per_endpoint = 8);
    ~ConnectionPool();
    ConnectionPool(const ConnectionPool&) = delete;
    ConnectionPool& operator=(const ConnectionPool&) = delete;

    // An idle connection to `endpoint` made with the same TLS `identity`, or a new one from `dial`
    // (always a new one when `fresh`). Idle connections made with other files are closed.
    Lease acquire(const std::string& endpoint, const TlsIdentity& identity, const Dial& dial, bool fresh = false);
    std::size_t idle(const std::string& endpoint);  // for tests

    // The client certificate and key of `identity`, parsed by `load` the first time only (and again
    // after a renewal changed the files): a dial would otherwise parse both (OpenSSL 3's decoders,
    // about 0.5 ms of CPU). A null result is not kept: broken files are read again on the next dial.
    using LoadCredentials = std::function<std::shared_ptr<const ClientCredentials>()>;
    std::shared_ptr<const ClientCredentials> credentials(const TlsIdentity& identity, const LoadCredentials& load);

  private:
    void give_back(const std::string& endpoint, const TlsIdentity& identity, std::unique_ptr<httplib::ClientImpl> c);
    struct Idle {
        TlsIdentity identity;
        std::vector<std::unique_ptr<httplib::ClientImpl>> clients;
    };
    std::mutex mutex_;
    std::map<std::string, Idle> idle_;
    std::size_t limit_;
    std::mutex credentials_mutex_;  // held while loading: callers dialling at once wait for one parse
    TlsIdentity credentials_identity_{};
    std::shared_ptr<const ClientCredentials> credentials_;
};

}  // namespace trellis::store
