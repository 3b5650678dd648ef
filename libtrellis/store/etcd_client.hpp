// A client for etcd 3.4's v3 JSON gateway (the same API etcdctl uses, as JSON over
// HTTP/1.1): cluster membership, maintenance status and alarms, and plain keys.
// Speaks mTLS through cpp-httplib, fails over across endpoints, and turns every
// failure into a trellis::Error that says which endpoint and why.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace httplib {
class ClientImpl;
}

#include "core/error.hpp"
#include "core/url.hpp"

namespace trellis::store {

class ConnectionPool;
class KnownMembers;
namespace detail {
struct Exchange;  // one request's outcome on one connection (etcd_client.cpp)
}

// Files for mutual TLS towards etcd. Empty cert/key: no client certificate.
// Empty ca_file on an https endpoint: the system trust store.
struct ClientCredentials;  // the parsed client certificate and key (connection_pool.hpp)

struct TlsFiles {
    std::string cert_file;
    std::string key_file;
    std::string ca_file;
};

struct ClientOptions {
    std::vector<std::string> endpoints;  // "https://127.0.0.11:2379"; tried in order, then failed over
    TlsFiles tls;
    std::chrono::milliseconds connect_timeout{2000};
    std::chrono::milliseconds request_timeout{5000};  // read and write, per request
    // The settings a user changes to send a client certificate, named when etcd asks for one.
    std::string cert_settings = "etcd-cert-file and etcd-key-file";
    // Kept-alive connections for the calls that only read (member list, status, range, alarm list),
    // shared by every copy of these options on every thread; null: a new connection per request.
    std::shared_ptr<ConnectionPool> connections{};
    // The member list the last cluster health check saw, shared like `connections`: the next check reads
    // those members while it asks for the list again (store/health.hpp). Null: list first, then read.
    std::shared_ptr<KnownMembers> known_members{};
};

// An etcd error that etcd itself reported: its gRPC status code and reason.
class StoreError : public Error {
  public:
    StoreError(Code code, std::string message, int grpc_code, std::string reason)
        : Error(code, std::move(message)), grpc_code_(grpc_code), reason_(std::move(reason)) {}
    int grpc_code() const noexcept { return grpc_code_; }
    const std::string& reason() const noexcept { return reason_; }  // "etcdserver: member not found"

  private:
    int grpc_code_;
    std::string reason_;
};

// The endpoint took no connection (refused, or none within the connect timeout): most likely not running.
// Code::ConnectFailed, as any failure to connect; the type tells it from a member that connects but stalls.
class UnreachableError : public Error {
  public:
    explicit UnreachableError(Error e) : Error(std::move(e)) {}
};

// gRPC status codes etcd answers with (google.golang.org/grpc/codes).
enum class GrpcCode : int {
    Ok = 0,
    Canceled = 1,
    Unknown = 2,
    InvalidArgument = 3,
    DeadlineExceeded = 4,
    NotFound = 5,
    AlreadyExists = 6,
    PermissionDenied = 7,
    ResourceExhausted = 8,
    FailedPrecondition = 9,
    Aborted = 10,
    OutOfRange = 11,
    Unimplemented = 12,
    Internal = 13,
    Unavailable = 14,
    DataLoss = 15,
    Unauthenticated = 16,
};

struct ResponseHeader {
    std::uint64_t cluster_id = 0;
    std::uint64_t member_id = 0;
    std::int64_t revision = 0;
    std::uint64_t raft_term = 0;
};

struct Member {
    std::uint64_t id = 0;
    std::string name;  // empty until the member has started
    std::vector<std::string> peer_urls;
    std::vector<std::string> client_urls;  // empty until the member has started
    bool is_learner = false;
};

struct MemberList {
    ResponseHeader header;
    std::vector<Member> members;
};

struct MemberChange {
    ResponseHeader header;
    std::optional<Member> member;  // the added member (add only)
    std::vector<Member> members;   // the whole list after the change
};

struct Status {
    ResponseHeader header;
    std::string version;
    std::int64_t db_size = 0;
    std::uint64_t leader = 0;
    std::uint64_t raft_index = 0;
    std::uint64_t raft_term = 0;
    std::vector<std::string> errors;
    bool is_learner = false;  // etcd 3.4: the answering member is a learner
};

struct Alarm {
    std::uint64_t member_id = 0;
    std::string alarm;  // "NOSPACE", "CORRUPT"
};

// Lower-case hex without leading zeros (Go's %x), as etcdctl, etcd's logs and sensuctl print member IDs.
std::string hex_id(std::uint64_t id);
// Parses a hex member ID (1-16 hex digits); Code::InputInvalidValue naming `where` otherwise.
std::uint64_t parse_hex_id(std::string_view text, std::string_view where);

class EtcdClient {
  public:
    // Code::InputInvalidValue if an endpoint is not a valid URL; at least one endpoint is required.
    explicit EtcdClient(ClientOptions options);

    MemberList member_list();
    MemberChange member_add(const std::vector<std::string>& peer_urls, bool is_learner = false);
    MemberChange member_update(std::uint64_t id, const std::vector<std::string>& peer_urls);
    MemberChange member_remove(std::uint64_t id);
    // etcd 3.4 MemberPromote: refused (FailedPrecondition) until the learner has caught up with the leader.
    MemberChange member_promote(std::uint64_t id);
    Status status();                        // of the endpoint that answers
    Status status_on(const Url& endpoint);  // of exactly that member
    // etcd's MoveLeader, sent to the leader's own endpoint: `target` (a started voter) becomes leader.
    void move_leader(const Url& leader_endpoint, std::uint64_t target);
    std::vector<Alarm> alarms();
    void put(std::string_view key, std::string_view value);
    // Linearizable unless `serializable`; nullopt when the key does not exist.
    std::optional<std::string> get(std::string_view key, bool serializable = false);

    // One gateway call with failover: POST `path` with `body`, the parsed JSON answer.
    nlohmann::json call(std::string_view path, const nlohmann::json& body);
    // One gateway call on exactly one endpoint (no failover), e.g. to check a member on its own URL.
    nlohmann::json call_on(const Url& endpoint, std::string_view path, const nlohmann::json& body);

    // A server-streaming gateway call on one endpoint (Maintenance.Snapshot): each message's "result"
    // to `on_result`, in order, as it arrives. An "error" message is a StoreError.
    void stream_on(const Url& endpoint, std::string_view path, const nlohmann::json& body,
                   const std::function<void(const nlohmann::json&)>& on_result);

    const ClientOptions& options() const { return options_; }
    const std::vector<Url>& endpoints() const { return endpoints_; }

  private:
    std::unique_ptr<httplib::ClientImpl> client_for(const Url& endpoint, bool keep_alive = false) const;
    std::shared_ptr<const ClientCredentials> credentials() const;  // null when they cannot be used
    detail::Exchange exchange_pooled(const Url& endpoint, std::string_view path, const nlohmann::json& body);

    ClientOptions options_;
    std::vector<Url> endpoints_;
    std::size_t preferred_ = 0;  // the endpoint that answered last
};

// The gateway's base64 (keys, values, snapshot blobs); Code::StoreRequestFailed naming `where` if broken.
std::string base64_decode(std::string_view text, std::string_view where);

// Decoders for the gateway's JSON (uint64/int64 arrive as strings), exposed for tests.
ResponseHeader decode_header(const nlohmann::json& json);
Member decode_member(const nlohmann::json& json);
Status decode_status(const nlohmann::json& json);

}  // namespace trellis::store
