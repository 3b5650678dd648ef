// Public API: a client for the cluster's etcd (v3 JSON gateway over mutual TLS), failing over
// across endpoints; every failure is a trellis::Error naming the endpoint and the reason.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trellis {

namespace detail {
struct StoreImpl;
}

struct StoreOptions {
    std::vector<std::string> endpoints{};  // "https://127.0.0.1:2379"; tried in order, then failed over
    std::string cert_file{};               // client certificate and key (empty: none)
    std::string key_file{};
    std::string ca_file{};  // CA that signed the servers' certificates
    std::chrono::milliseconds connect_timeout{2000};
    std::chrono::milliseconds request_timeout{5000};
};

struct StoreMember {
    std::uint64_t id = 0;
    std::string name{};  // empty until the member has started
    std::vector<std::string> peer_urls{};
    std::vector<std::string> client_urls{};
    bool is_learner = false;
};

class StoreClient {
  public:
    // Code::InputInvalidValue if an endpoint is not a valid URL; at least one is required.
    explicit StoreClient(StoreOptions options);
    ~StoreClient();
    StoreClient(StoreClient&&) noexcept;
    StoreClient& operator=(StoreClient&&) noexcept;

    std::vector<StoreMember> members();
    void put(std::string_view key, std::string_view value);
    std::optional<std::string> get(std::string_view key);  // linearizable; nullopt when absent

  private:
    std::unique_ptr<detail::StoreImpl> impl_;
};

// Lower-case hex without leading zeros (Go's %x), as etcdctl and sensuctl print member IDs.
std::string member_id_text(std::uint64_t id);

}  // namespace trellis
