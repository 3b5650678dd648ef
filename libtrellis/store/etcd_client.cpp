#include "store/etcd_client.hpp"

#include <openssl/err.h>
#include <unistd.h>

#include <httplib.h>
#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <thread>

#include "core/files.hpp"
#include "core/text.hpp"
#include "store/connection_pool.hpp"
#include "store/tls_diagnosis.hpp"

namespace trellis::store {
namespace {

using nlohmann::json;

// The gateway writes 64-bit integers as JSON strings (proto3 JSON mapping); accept numbers too.
template <typename Int>
Int integer_field(const json& object, const char* key) {
    const auto it = object.find(key);
    if (it == object.end() || it->is_null()) return 0;
    if (it->is_number_unsigned() || (it->is_number_integer() && std::is_signed_v<Int>)) return it->get<Int>();
    if (it->is_string()) {
        const auto& s = it->get_ref<const std::string&>();
        Int value = 0;
        const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
        if (ec == std::errc() && ptr == s.data() + s.size()) return value;
    }
    throw Error(Code::StoreRequestFailed,
                std::string("etcd answered a malformed \"") + key +
                    "\": " + (it->is_structured() ? std::string(it->type_name()) : excerpt(it->dump())));
}

// A member that must be an object (absent: empty); the gateway's answers are objects all the way down.
const json& object_field(const json& object, const char* key) {
    static const json kEmpty = json::object();
    const auto it = object.find(key);
    if (it == object.end() || it->is_null()) return kEmpty;
    if (!it->is_object())
        throw Error(Code::StoreRequestFailed, std::string("etcd answered a malformed \"") + key +
                                                  "\": expected an object, got " + it->type_name());
    return *it;
}

bool bool_field(const json& object, const char* key) {
    const auto it = object.find(key);
    if (it == object.end() || it->is_null()) return false;
    if (!it->is_boolean())
        throw Error(Code::StoreRequestFailed, std::string("etcd answered a malformed \"") + key +
                                                  "\": expected true or false, got " + it->type_name());
    return it->get<bool>();
}

std::vector<std::string> strings_field(const json& object, const char* key) {
    std::vector<std::string> out;
    const auto it = object.find(key);
    if (it == object.end() || !it->is_array()) return out;
    for (const auto& v : *it)
        if (v.is_string()) out.push_back(v.get<std::string>());
    return out;
}

std::string string_field(const json& object, const char* key) {
    const auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::vector<Member> members_field(const json& object) {
    std::vector<Member> out;
    const auto it = object.find("members");
    if (it != object.end() && it->is_array())
        for (const auto& m : *it) out.push_back(decode_member(m));
    return out;
}

MemberChange decode_change(const json& answer, bool with_member) {
    MemberChange change;
    change.header = decode_header(object_field(answer, "header"));
    if (with_member && answer.contains("member")) change.member = decode_member(object_field(answer, "member"));
    change.members = members_field(answer);
    return change;
}

std::string ms_text(std::chrono::milliseconds ms) { return std::to_string(ms.count()) + " ms"; }

// httplib only reports "could not connect": connect once more to learn errno.
std::string probe_connect(const Url& url, std::chrono::milliseconds timeout) {
    std::string why;
    const int fd = dial_tcp(url, timeout, why);
    if (fd < 0) return why;
    ::close(fd);
    return "dial tcp " + url.host_port() + ": connect: connection dropped";  // it answers now, not then
}

// `ssl_reasons`: OpenSSL's error queue after the failure, oldest first.
Error transport_error(const Url& url, httplib::Error err, long verify_result,
                      const std::vector<std::string>& ssl_reasons, const ClientOptions& options) {
    const std::string where = url.text();
    const std::string reasons = join(ssl_reasons, "; ");
    switch (err) {
        case httplib::Error::Connection:
            return Error(Code::ConnectFailed, probe_connect(url, options.connect_timeout));
        case httplib::Error::ConnectionTimeout:
            return Error(Code::ConnectFailed, "dial tcp " + url.host_port() + ": i/o timeout (no connection within " +
                                                  ms_text(options.connect_timeout) + ")");
        case httplib::Error::SSLLoadingCerts:
            return Error(Code::TlsFailed, where + ": cannot load the TLS files (cert \"" + options.tls.cert_file +
                                              "\", key \"" + options.tls.key_file + "\", CA \"" + options.tls.ca_file +
                                              "\")" + (reasons.empty() ? "" : ": " + reasons));
        case httplib::Error::SSLServerVerification:
            return Error(Code::TlsFailed,
                         where + ": " + diagnose_server_certificate(verify_result).explanation +
                             (options.tls.ca_file.empty() ? "" : " (trusted CA file " + options.tls.ca_file + ")"));
        case httplib::Error::SSLConnection:
        case httplib::Error::Read:
        case httplib::Error::Write: {
            if (url.scheme == "https") {
                const TlsStage stage =
                    err == httplib::Error::SSLConnection ? TlsStage::Handshake : TlsStage::AfterHandshake;
                const ProbeOptions probe{options.tls.cert_file, options.tls.key_file,
                                         std::min(options.request_timeout, std::chrono::milliseconds(1000)),
                                         options.tls.ca_file};
                if (const auto d = diagnose_tls_failure(url, stage, ssl_reasons, probe, options.cert_settings))
                    return Error(Code::TlsFailed, where + ": " + d->explanation);
            }
            if (err == httplib::Error::SSLConnection)
                return Error(Code::TlsFailed,
                             where + ": TLS handshake failed" + (reasons.empty() ? "" : ": " + reasons));
            return Error(Code::ConnectFailed, where + ": no complete answer within " +
                                                  ms_text(options.request_timeout) + " (" + httplib::to_string(err) +
                                                  ")");
        }
        default:
            return Error(Code::ConnectFailed, where + ": " + httplib::to_string(err));
    }
}

// Maps etcd's answer to an error: the gateway sends {"error","code","message"} with a gRPC code.
StoreError etcd_error(const Url& url, int http_status, const std::string& body) {
    int grpc = static_cast<int>(GrpcCode::Unknown);
    std::string reason;
    try {
        const json answer = json::parse(body);
        // Only a whole number that fits an int is a gRPC code ("code":1e30 must not reach a conversion).
        if (const auto it = answer.find("code"); answer.is_object() && it != answer.end() && it->is_number_integer() &&
                                                 it->get<std::int64_t>() >= 0 && it->get<std::int64_t>() <= 64)
            grpc = it->get<int>();
        reason = string_field(answer, "message");
        if (reason.empty()) reason = string_field(answer, "error");
    } catch (const json::exception&) {
        reason = body.substr(0, body.find('\n'));
    }
    if (reason.empty()) reason = "HTTP " + std::to_string(http_status);
    const Code code = grpc == static_cast<int>(GrpcCode::NotFound) && reason.find("member") != std::string::npos
                          ? Code::MemberNotFound
                          : Code::StoreRequestFailed;
    return StoreError(code, url.text() + ": " + reason, grpc, reason);
}

}  // namespace

std::string base64_decode(std::string_view text, std::string_view where) {
    // Strict: anything but standard padded base64 is an answer of the wrong shape.
    auto bytes = trellis::base64_decode(text);
    if (!bytes) throw Error(Code::StoreRequestFailed, std::string(where) + ": etcd sent invalid base64");
    return std::move(*bytes);
}

std::string hex_id(std::uint64_t id) { return hex_u64(id); }

std::uint64_t parse_hex_id(std::string_view text, std::string_view where) {
    if (const auto id = parse_hex_u64(text)) return *id;
    throw Error(
        Code::InputInvalidValue,
        located(where, "\"" + std::string(text) + "\" is not a member ID (1 to 16 hex digits, as member list prints)"));
}

ResponseHeader decode_header(const json& j) {
    ResponseHeader h;
    h.cluster_id = integer_field<std::uint64_t>(j, "cluster_id");
    h.member_id = integer_field<std::uint64_t>(j, "member_id");
    h.revision = integer_field<std::int64_t>(j, "revision");
    h.raft_term = integer_field<std::uint64_t>(j, "raft_term");
    return h;
}

Member decode_member(const json& j) {
    if (!j.is_object())
        throw Error(Code::StoreRequestFailed,
                    std::string("etcd answered a member that is not an object but ") + j.type_name());
    Member m;
    m.id = integer_field<std::uint64_t>(j, "ID");
    m.name = string_field(j, "name");
    m.peer_urls = strings_field(j, "peerURLs");
    m.client_urls = strings_field(j, "clientURLs");
    m.is_learner = bool_field(j, "isLearner");
    return m;
}

Status decode_status(const json& a) {
    Status s;
    s.header = decode_header(object_field(a, "header"));
    s.version = string_field(a, "version");
    s.db_size = integer_field<std::int64_t>(a, "dbSize");
    s.leader = integer_field<std::uint64_t>(a, "leader");
    s.raft_index = integer_field<std::uint64_t>(a, "raftIndex");
    s.raft_term = integer_field<std::uint64_t>(a, "raftTerm");
    s.errors = strings_field(a, "errors");
    s.is_learner = a.value("isLearner", false);
    return s;
}

EtcdClient::EtcdClient(ClientOptions options) : options_(std::move(options)) {
    if (options_.endpoints.empty())
        throw Error(Code::ConfigInvalid,
                    "no etcd endpoint given: set etcd-client-urls (or etcd-advertise-client-urls)");
    for (const auto& e : options_.endpoints) endpoints_.push_back(parse_url(e, UrlKind::Client, "etcd endpoint"));
}

namespace {

// The pair is read again whenever its files change, so a renewed pair is used at once. Renewal replaces
// the certificate and the key one rename after the other: a pair caught between the two is read again a
// few times (bounded: 5 x 20 ms) before the caller calls it what it then is. Null when it cannot be used.
std::shared_ptr<const ClientCredentials> load_credentials(const TlsFiles& files) {
    for (int attempt = 1;; ++attempt) {
        if (auto pair = read_client_credentials(files); pair || attempt == 5) return pair;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

}  // namespace

namespace {
// Sets `options`' timeouts on `client`: per request, so a kept connection takes each caller's own.
httplib::ClientImpl& timed(httplib::ClientImpl& client, const ClientOptions& options) {
    const auto secs = [](std::chrono::milliseconds ms) {
        return std::pair<time_t, time_t>(ms.count() / 1000, (ms.count() % 1000) * 1000);
    };
    const auto [cs, cus] = secs(options.connect_timeout);
    const auto [rs, rus] = secs(options.request_timeout);
    client.set_connection_timeout(cs, cus);
    client.set_read_timeout(rs, rus);
    client.set_write_timeout(rs, rus);
    return client;
}
}  // namespace

std::shared_ptr<const ClientCredentials> EtcdClient::credentials() const {
    const auto load = [this] { return load_credentials(options_.tls); };
    return options_.connections ? options_.connections->credentials(tls_identity(options_.tls), load) : load();
}

std::unique_ptr<httplib::ClientImpl> EtcdClient::client_for(const Url& url, bool keep_alive) const {
    std::unique_ptr<httplib::ClientImpl> client;
    if (url.scheme == "https") {
        const auto pair = options_.tls.cert_file.empty() ? nullptr : credentials();
        auto tls = pair ? std::make_unique<httplib::SSLClient>(url.host, url.port, pair->cert.get(), pair->key.get())
                        : std::make_unique<httplib::SSLClient>(url.host, url.port);
        // Unreadable or not a matching pair: said so here rather than as a transport error of "Success".
        if (!tls->is_valid() || (!pair && !options_.tls.cert_file.empty()))
            throw Error(Code::TlsFailed, located(options_.tls.cert_file, "cannot load the client certificate with " +
                                                                             options_.tls.key_file +
                                                                             " (unreadable, or not a matching pair)"));
        if (!options_.tls.ca_file.empty()) tls->set_ca_cert_path(options_.tls.ca_file);
        tls->enable_server_certificate_verification(true);
        client = std::move(tls);
    } else {
        client = std::make_unique<httplib::ClientImpl>(url.host, url.port);
    }
    timed(*client, options_);
    client->set_keep_alive(keep_alive);
    // A request is written as its head, then its body: without this, Nagle holds the body until the head's
    // ACK, which the server delays (~40 ms on Linux): the tail of every call through the gateway.
    client->set_tcp_nodelay(true);
    return client;
}

namespace {
// A POST of `body` to a gateway path, as both the one-answer and the streaming calls send it.
httplib::Request gateway_post(std::string_view path, const json& body) {
    httplib::Request request;
    request.method = "POST";
    request.path = std::string(path);
    request.body = body.dump();
    request.set_header("Content-Type", "application/json");
    return request;
}
}  // namespace

namespace detail {
struct Exchange {
    bool sent = false;
    int status = 0;
    std::string answer;
    bool complete = false;  // a status and a whole JSON document, even if httplib reported an error after it
    httplib::Error error = httplib::Error::Success;
    long verify_result = 0;
    std::vector<std::string> ssl_reasons;  // OpenSSL's error queue right after the failure
};
}  // namespace detail

namespace {

using detail::Exchange;

// OpenSSL's verdict on the server's certificate (X509_V_OK for a plain HTTP client).
long verify_result_of(httplib::ClientImpl& client) {
    const auto* tls = dynamic_cast<const httplib::SSLClient*>(&client);
    return tls ? tls->get_openssl_verify_result() : X509_V_OK;
}

Exchange exchange(httplib::ClientImpl& client, std::string_view path, const json& body) {
    // Read the answer through handlers rather than Post(): etcd's gateway ends error answers
    // with a chunked trailer ("Grpc-Trailer-Content-Type") that cpp-httplib 0.11 fails to
    // parse, reporting a read error after it has handed us the status and the whole body.
    httplib::Request request = gateway_post(path, body);
    Exchange x;
    request.response_handler = [&](const httplib::Response& r) {
        x.status = r.status;
        return true;
    };
    request.content_receiver = [&](const char* data, std::size_t len, std::uint64_t, std::uint64_t) {
        x.answer.append(data, len);
        return true;
    };
    ERR_clear_error();
    httplib::Response response;
    x.sent = client.send(request, response, x.error);
    x.complete = x.status != 0 && json::accept(x.answer);
    if (!x.sent) {
        x.verify_result = verify_result_of(client);
        x.ssl_reasons = take_openssl_reasons();
    }
    return x;
}

// The gateway calls that change nothing (alarms only when listed): one that failed on a kept connection
// may be sent again on a new one. Writes always go on a connection of their own, sent once.
bool read_only(std::string_view path, const json& body) {
    static constexpr std::array<std::string_view, 3> kReads{"/v3/maintenance/status", "/v3/cluster/member/list",
                                                            "/v3/kv/range"};
    if (path == "/v3/maintenance/alarm") return body.value("action", "") == "GET";
    return std::find(kReads.begin(), kReads.end(), path) != kReads.end();
}

}  // namespace

Exchange EtcdClient::exchange_pooled(const Url& url, std::string_view path, const json& body) {
    ConnectionPool& pool = *options_.connections;
    const TlsIdentity identity = tls_identity(options_.tls);
    const auto dial = [&] { return client_for(url, true); };
    auto lease = pool.acquire(url.text(), identity, dial);
    const auto start = std::chrono::steady_clock::now();
    Exchange x = exchange(timed(lease.client(), options_), path, body);
    // A kept connection the member has closed meanwhile (its restart, an idle timeout) fails at once: dial
    // once more. One that failed slowly met a member that does not answer: a second try would only wait again.
    const bool quick = std::chrono::steady_clock::now() - start < options_.request_timeout / 2;
    if (!x.complete && lease.reused() && quick) {
        auto fresh = pool.acquire(url.text(), identity, dial, true);
        x = exchange(timed(fresh.client(), options_), path, body);
        if (x.sent && x.status == 200) fresh.keep();
        return x;
    }
    if (x.sent && x.status == 200) lease.keep();
    return x;
}

json EtcdClient::call_on(const Url& url, std::string_view path, const json& body) {
    Exchange x;
    if (options_.connections && read_only(path, body)) {
        x = exchange_pooled(url, path, body);
    } else {
        x = exchange(*client_for(url), path, body);
    }
    if (!x.sent && !x.complete) {
        Error e = transport_error(url, x.error, x.verify_result, x.ssl_reasons, options_);
        if (x.error == httplib::Error::Connection || x.error == httplib::Error::ConnectionTimeout)
            throw UnreachableError(std::move(e));
        throw e;
    }
    if (x.status != 200) throw etcd_error(url, x.status, x.answer);
    json doc;
    try {
        doc = json::parse(x.answer);
    } catch (const json::exception&) {
        throw Error(Code::StoreRequestFailed,
                    url.text() + std::string(path) + ": etcd answered something that is not JSON");
    }
    if (!doc.is_object())
        throw Error(Code::StoreRequestFailed, url.text() + std::string(path) +
                                                  ": etcd answered JSON that is not an object but " + doc.type_name());
    return doc;
}

void EtcdClient::stream_on(const Url& url, std::string_view path, const json& body,
                           const std::function<void(const json&)>& on_result) {
    const auto client = client_for(url);
    httplib::Request request = gateway_post(path, body);
    int status = 0;
    std::string pending;  // the gateway writes one JSON message per line: {"result":{...}} or {"error":{...}}
    const auto take = [&](std::string_view line) {
        if (line.find_first_not_of(" \r\n") == std::string_view::npos) return;
        const json message = json::parse(line, nullptr, false);
        if (message.is_discarded())
            throw Error(Code::StoreRequestFailed, url.text() + std::string(path) + ": etcd sent a broken message");
        if (message.contains("error")) throw etcd_error(url, status, message["error"].dump());
        on_result(message.value("result", json::object()));
    };
    request.response_handler = [&](const httplib::Response& r) {
        status = r.status;
        return true;
    };
    std::exception_ptr failed;  // thrown by `take` or the sink: carried out of httplib, which stops reading
    request.content_receiver = [&](const char* data, std::size_t len, std::uint64_t, std::uint64_t) {
        pending.append(data, len);
        if (status != 200) return true;  // an error answer: one document, read whole below
        try {
            for (std::size_t nl; (nl = pending.find('\n')) != std::string::npos; pending.erase(0, nl + 1))
                take(std::string_view(pending).substr(0, nl));
        } catch (...) {
            failed = std::current_exception();
            return false;
        }
        return true;
    };
    ERR_clear_error();
    httplib::Response response;
    httplib::Error error = httplib::Error::Success;
    const bool sent = client->send(request, response, error);
    if (failed) std::rethrow_exception(failed);
    if (status != 0 && status != 200) throw etcd_error(url, status, pending);
    if (status == 200) take(pending);
    if (!sent) throw transport_error(url, error, verify_result_of(*client), take_openssl_reasons(), options_);
}

namespace {

// A member whose etcd is stopping or starting answers through its HTTP gateway while the gateway cannot
// reach the member's own gRPC server ("transport: Error while dialing ... connection refused"): the
// request never reached etcd, so another member may take it -- a write included, as it was not applied.
bool never_delivered(const StoreError& e) {
    return e.grpc_code() == static_cast<int>(GrpcCode::Unavailable) &&
           (e.reason().find("transport: Error while dialing") != std::string::npos ||
            e.reason().find("connection refused") != std::string::npos);
}

}  // namespace

json EtcdClient::call(std::string_view path, const json& body) {
    std::string failures;
    Code code = Code::ConnectFailed;
    for (std::size_t n = 0; n < endpoints_.size(); ++n) {
        const std::size_t i = (preferred_ + n) % endpoints_.size();
        try {
            json answer = call_on(endpoints_[i], path, body);
            preferred_ = i;
            return answer;
        } catch (const StoreError& e) {
            if (!never_delivered(e)) throw;  // etcd answered: another member would say the same
            failures += (failures.empty() ? "" : "; ") + std::string(e.what());
        } catch (const Error& e) {
            if (e.code() == Code::TlsFailed) code = Code::TlsFailed;
            if (endpoints_.size() == 1) throw;
            failures += (failures.empty() ? "" : "; ") + std::string(e.what());
        }
    }
    throw Error(code, "no etcd endpoint answered: " + failures);
}

MemberList EtcdClient::member_list() {
    const json answer = call("/v3/cluster/member/list", json::object());
    return {decode_header(object_field(answer, "header")), members_field(answer)};
}

MemberChange EtcdClient::member_add(const std::vector<std::string>& peer_urls, bool is_learner) {
    for (const auto& u : peer_urls) parse_url(u, UrlKind::Peer, "peer URL");
    return decode_change(call("/v3/cluster/member/add", {{"peerURLs", peer_urls}, {"isLearner", is_learner}}), true);
}

MemberChange EtcdClient::member_update(std::uint64_t id, const std::vector<std::string>& peer_urls) {
    for (const auto& u : peer_urls) parse_url(u, UrlKind::Peer, "peer URL");
    return decode_change(call("/v3/cluster/member/update", {{"ID", std::to_string(id)}, {"peerURLs", peer_urls}}),
                         false);
}

MemberChange EtcdClient::member_remove(std::uint64_t id) {
    return decode_change(call("/v3/cluster/member/remove", {{"ID", std::to_string(id)}}), false);
}

MemberChange EtcdClient::member_promote(std::uint64_t id) {
    return decode_change(call("/v3/cluster/member/promote", {{"ID", std::to_string(id)}}), false);
}

Status EtcdClient::status() { return decode_status(call("/v3/maintenance/status", json::object())); }

Status EtcdClient::status_on(const Url& endpoint) {
    return decode_status(call_on(endpoint, "/v3/maintenance/status", json::object()));
}

void EtcdClient::move_leader(const Url& leader_endpoint, std::uint64_t target) {
    call_on(leader_endpoint, "/v3/maintenance/transfer-leadership", {{"targetID", std::to_string(target)}});
}

std::vector<Alarm> EtcdClient::alarms() {
    const json a = call("/v3/maintenance/alarm", {{"action", "GET"}, {"memberID", "0"}, {"alarm", "NONE"}});
    std::vector<Alarm> out;
    if (const auto it = a.find("alarms"); it != a.end() && it->is_array())
        for (const auto& al : *it) {
            Alarm alarm{integer_field<std::uint64_t>(al, "memberID"), string_field(al, "alarm")};
            if (alarm.alarm.empty()) alarm.alarm = "NONE";
            out.push_back(std::move(alarm));
        }
    return out;
}

void EtcdClient::put(std::string_view key, std::string_view value) {
    call("/v3/kv/put", {{"key", base64_encode(key)}, {"value", base64_encode(value)}});
}

std::optional<std::string> EtcdClient::get(std::string_view key, bool serializable) {
    const json a = call("/v3/kv/range", {{"key", base64_encode(key)}, {"serializable", serializable}});
    const auto it = a.find("kvs");
    if (it == a.end() || !it->is_array() || it->empty()) return std::nullopt;
    return base64_decode(string_field(it->front(), "value"), "value of " + std::string(key));
}

}  // namespace trellis::store
