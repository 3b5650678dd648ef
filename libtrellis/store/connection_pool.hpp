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

#include "core/file_stamp.hpp"

namespace httplib {
class Client;
}

namespace trellis::store {

struct TlsFiles;

// The TLS files' stamps (cert, key, CA): a renewal, which renames new files into place, changes them.
using TlsIdentity = std::array<FileStamp, 3>;
TlsIdentity tls_identity(const TlsFiles& files);

class ConnectionPool {
  public:
    // One connection, lent. Destroyed without keep(): the connection is closed.
    class Lease {
      public:
        Lease(ConnectionPool* pool, std::string endpoint, TlsIdentity identity, std::unique_ptr<httplib::Client> c,
              bool reused);
        Lease(Lease&&) noexcept;
        Lease& operator=(Lease&&) = delete;
        ~Lease();
        httplib::Client& client() { return *client_; }
        bool reused() const { return reused_; }  // kept from an earlier request: the member may have closed it
        void keep() { keep_ = true; }            // it answered cleanly: lend it again

      private:
        ConnectionPool* pool_;
        std::string endpoint_;
        TlsIdentity identity_;
        std::unique_ptr<httplib::Client> client_;
        bool reused_ = false, keep_ = false;
    };
    using Dial = std::function<std::unique_ptr<httplib::Client>()>;

    // At most `idle_per_endpoint` idle connections are kept per endpoint; more callers at once dial more.
    explicit ConnectionPool(std::size_t idle_per_endpoint = 8);
    ~ConnectionPool();
    ConnectionPool(const ConnectionPool&) = delete;
    ConnectionPool& operator=(const ConnectionPool&) = delete;

    // An idle connection to `endpoint` made with the same TLS `identity`, or a new one from `dial`
    // (always a new one when `fresh`). Idle connections made with other files are closed.
    Lease acquire(const std::string& endpoint, const TlsIdentity& identity, const Dial& dial, bool fresh = false);
    std::size_t idle(const std::string& endpoint);  // for tests

  private:
    void give_back(const std::string& endpoint, const TlsIdentity& identity, std::unique_ptr<httplib::Client> c);
    struct Idle {
        TlsIdentity identity;
        std::vector<std::unique_ptr<httplib::Client>> clients;
    };
    std::mutex mutex_;
    std::map<std::string, Idle> idle_;
    std::size_t limit_;
};

}  // namespace trellis::store
