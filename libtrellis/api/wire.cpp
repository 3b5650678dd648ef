#include "api/wire.hpp"

#include "core/strict_json.hpp"
#include "core/text.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace trellis::api {
namespace {

using store::GrpcCode;

// Errors to HTTP statuses (docs/api.md). etcd's gRPC code decides first when etcd answered;
// "unhealthy cluster" is etcd refusing a change that would cost quorum: a conflict, not an outage.
struct GrpcStatus {
    GrpcCode grpc;
    std::string_view reason;  // empty: any reason
    int http;
};
constexpr std::array kGrpcStatuses{
    GrpcStatus{GrpcCode::Unavailable, "etcdserver: unhealthy cluster", 409},
    GrpcStatus{GrpcCode::InvalidArgument, "", 400},
    GrpcStatus{GrpcCode::NotFound, "", 404},
    GrpcStatus{GrpcCode::AlreadyExists, "", 409},
    GrpcStatus{GrpcCode::FailedPrecondition, "", 409},
    GrpcStatus{GrpcCode::Unavailable, "", 503},
    GrpcStatus{GrpcCode::DeadlineExceeded, "", 503},
};

struct CodeStatus {
    Code code;
    int http;
};
constexpr std::array kCodeStatuses{
    CodeStatus{Code::InputInvalidValue, 400}, CodeStatus{Code::Usage, 400},     CodeStatus{Code::MemberNotFound, 404},
    CodeStatus{Code::ConnectFailed, 503},     CodeStatus{Code::TlsFailed, 503}, CodeStatus{Code::StoreUnavailable, 503},
    CodeStatus{Code::Forbidden, 403},
};

// Typed access to an API document with errors naming the backend and the field path.
class Reader {
  public:
    Reader(const Json& value, std::string source, std::string path)
        : value_(value), source_(std::move(source)), path_(std::move(path)) {
        if (!value_.is_object()) fail("", "expected an object");
    }

    [[noreturn]] void fail(std::string_view key, std::string_view why) const {
        const std::string field = path_.empty() ? std::string(key)
                                  : key.empty() ? path_
                                                : path_ + "." + std::string(key);
        throw Error(Code::HttpError, source_ + ": unexpected answer from the backend: " +
                                         (field.empty() ? "" : field + ": ") + std::string(why));
    }

    const Json* find(std::string_view key) const {
        const auto it = value_.find(key);
        return it == value_.end() || it->is_null() ? nullptr : &*it;
    }

    std::string string(std::string_view key) const {
        const Json* v = find(key);
        if (v == nullptr) return {};
        if (!v->is_string()) fail(key, "expected a string");
        return v->get<std::string>();
    }

    // A boolean; `fallback` (Go's omitempty false) when absent, or an error when there is none.
    bool boolean(std::string_view key, std::optional<bool> fallback = std::nullopt) const {
        const Json* v = find(key);
        if (v == nullptr && fallback) return *fallback;
        if (v == nullptr || !v->is_boolean()) fail(key, "expected true or false");
        return v->get<bool>();
    }

    // An unsigned 64-bit number, exact; nullopt when absent (Go's omitempty drops zeros).
    std::optional<std::uint64_t> u64(std::string_view key) const {
        const Json* v = find(key);
        if (v == nullptr) return std::nullopt;
        if (!v->is_number_unsigned() && !(v->is_number_integer() && v->get<std::int64_t>() >= 0))
            fail(key, "expected an unsigned 64-bit integer");
        return v->get<std::uint64_t>();
    }

    // A member ID: the exact JSON number, and its hex twin (`hex_key`, Sensu's %x) agreeing when present.
    std::uint64_t id(std::string_view key, std::string_view hex_key = {}) const {
        const auto number = u64(key);
        if (!number) fail(key, "missing");
        const std::string text = hex_key.empty() ? std::string() : string(hex_key);
        if (text.empty()) return *number;
        const auto hex = parse_hex_u64(text);
        if (!hex) fail(hex_key, "expected up to 16 hex digits");
        if (*hex != *number) fail(hex_key, "does not match " + std::string(key) + " " + std::to_string(*number));
        return *number;
    }

    std::vector<std::string> strings(std::string_view key) const {
        const Json* v = find(key);
        std::vector<std::string> out;
        if (v == nullptr) return out;
        if (!v->is_array()) fail(key, "expected a list of strings");
        for (const auto& item : *v) {
            if (!item.is_string()) fail(key, "expected a list of strings");
            out.push_back(item.get<std::string>());
        }
        return out;
    }

    template <typename F>
    void each(std::string_view key, F&& f) const {
        const Json* v = find(key);
        if (v == nullptr) return;
        if (!v->is_array()) fail(key, "expected a list");
        for (std::size_t i = 0; i < v->size(); ++i)
            f(Reader((*v)[i], source_,
                     (path_.empty() ? "" : path_ + ".") + std::string(key) + "[" + std::to_string(i) + "]"));
    }

    std::optional<Reader> object(std::string_view key) const {
        const Json* v = find(key);
        if (v == nullptr) return std::nullopt;
        return Reader(*v, source_, (path_.empty() ? "" : path_ + ".") + std::string(key));
    }

  private:
    const Json& value_;
    std::string source_;
    std::string path_;
};

// etcd's alarm types (etcdserverpb.AlarmType): Go's encoding/json writes the enum's number.
struct AlarmType {
    std::string_view name;
    int number;
};
constexpr std::array kAlarmTypes{AlarmType{"NONE", 0}, AlarmType{"NOSPACE", 1}, AlarmType{"CORRUPT", 2}};

// Go's `omitempty`: zero numbers, empty strings and lists and false are left out.
template <typename T>
void put(Json& out, std::string_view key, const T& value) {
    if (value != T{}) out[std::string(key)] = value;
}

// etcdserverpb.ResponseHeader as encoding/json writes it.
Json encode_header(const ResponseHeader& h) {
    Json out = Json::object();
    put(out, "cluster_id", h.cluster_id);
    put(out, "member_id", h.member_id);
    put(out, "revision", h.revision);
    put(out, "raft_term", h.raft_term);
    return out;
}

ResponseHeader decode_header(const Reader& doc, std::string_view key) {
    ResponseHeader out;
    if (const auto h = doc.object(key)) {
        out.cluster_id = h->u64("cluster_id").value_or(0);
        out.member_id = h->u64("member_id").value_or(0);
        out.revision = static_cast<std::int64_t>(h->u64("revision").value_or(0));
        out.raft_term = h->u64("raft_term").value_or(0);
    }
    return out;
}

// etcdserverpb.Member as encoding/json writes it (clientv3's MemberListResponse and friends).
Json encode_member(const Member& m) {
    Json out = Json::object();
    put(out, "ID", m.id);
    put(out, "name", m.name);
    put(out, "peerURLs", m.peer_urls);
    put(out, "clientURLs", m.client_urls);
    put(out, "isLearner", m.is_learner);
    return out;
}

Member decode_member(const Reader& r) {
    return Member{r.id("ID"), r.string("name"), r.strings("peerURLs"), r.strings("clientURLs"),
                  r.boolean("isLearner", false)};
}

Json encode_alarm(const Alarm& a) {
    Json out = Json::object();
    put(out, "memberID", a.member_id);
    const auto type =
        std::find_if(kAlarmTypes.begin(), kAlarmTypes.end(), [&](const AlarmType& t) { return t.name == a.alarm; });
    // A type newer than this table keeps its name rather than becoming a wrong number.
    if (type == kAlarmTypes.end())
        out["alarm"] = a.alarm;
    else
        put(out, "alarm", type->number);
    return out;
}

Alarm decode_alarm(const Reader& r) {
    Alarm out{r.u64("memberID").value_or(0), "NONE"};
    const Json* v = r.find("alarm");
    if (v != nullptr && v->is_string()) {
        out.alarm = v->get<std::string>();
    } else if (v != nullptr) {
        if (!v->is_number_integer()) r.fail("alarm", "expected an alarm type (a number, as etcd's AlarmType)");
        const auto number = v->get<std::int64_t>();
        const auto type = std::find_if(kAlarmTypes.begin(), kAlarmTypes.end(),
                                       [&](const AlarmType& t) { return t.number == number; });
        out.alarm = type == kAlarmTypes.end() ? "alarm type " + std::to_string(number) : std::string(type->name);
    }
    return out;
}

}  // namespace

std::string member_path(std::uint64_t id) { return std::string(kMembersPath) + "/" + store::hex_id(id); }

MembersAnswer members_answer(const store::MemberList& list) { return {list.header, std::nullopt, list.members}; }

ErrorBody error_body(const Error& error) { return {error.number(), error.what()}; }

int http_status_for(const Error& error) {
    if (const auto* se = dynamic_cast<const store::StoreError*>(&error)) {
        for (const auto& s : kGrpcStatuses)
            if (static_cast<int>(s.grpc) == se->grpc_code() && (s.reason.empty() || se->reason() == s.reason))
                return s.http;
    }
    for (const auto& s : kCodeStatuses)
        if (s.code == error.code()) return s.http;
    return 500;
}

// clientv3's MemberListResponse, MemberAddResponse (with "member"), MemberUpdateResponse and
// MemberRemoveResponse as Sensu's API writes them: etcd's field names, IDs as exact numbers.
Json encode(const MembersAnswer& answer) {
    Json out = Json::object();
    out["header"] = encode_header(answer.header);
    if (answer.member) out["member"] = encode_member(*answer.member);
    if (!answer.members.empty()) {
        Json& list = out["members"] = Json::array();
        for (const auto& m : answer.members) list.push_back(encode_member(m));
    }
    return out;
}

// Sensu's HealthResponse: "Alarms" is null when there is none (a nil slice in Go); "Error" is ours,
// set only when the backend could reach no member at all.
Json encode(const Health& health) {
    Json alarms = nullptr, members = Json::array();
    for (const auto& a : health.alarms) alarms.push_back(encode_alarm(a));
    for (const auto& m : health.members)
        members.push_back({{"MemberID", m.id},
                           {"MemberIDHex", store::hex_id(m.id)},
                           {"Name", m.name},
                           {"Err", m.error},
                           {"Healthy", m.healthy}});
    Json out{{"Alarms", alarms}, {"ClusterHealth", members}, {"Header", encode_header(health.header)}};
    if (!health.error.empty()) out["Error"] = health.error;
    return out;
}

Json encode(const ErrorBody& body) { return {{"code", body.code}, {"message", body.message}}; }

Error not_an_api(std::string_view source, std::string_view why) {
    return Error(Code::HttpError, std::string(source) + ": this is not a Trellis API: " + std::string(why) +
                                      " (is the URL a backend's API address, port 8080 by default, and not etcd's?)");
}

Json parse_json(std::string_view body, std::string_view source) {
    // The core reader bounds the depth (kMaxJsonDepth): printing an answer as JSON or YAML recurses,
    // and a 30,000-deep answer must be an error, not a stack overflow (issue 9).
    try {
        return trellis::parse_json(body, source);
    } catch (const Error& e) {
        if (e.code() != Code::InputMalformed) throw;
        throw not_an_api(source, std::string("its answer is not JSON: ") + e.what());
    }
}

namespace {
// Every answer of ours (and Sensu's) has `key`; without it, whatever answered is not our API: etcd's own
// /health says {"health":"true"}, and a blank member table would hide that.
void expect_key(const Json& doc, std::string_view key, std::string_view source, std::string_view request) {
    if (!doc.is_object() || !doc.contains(key))
        throw not_an_api(source, "its answer to " + std::string(request) + " has no \"" + std::string(key) + "\"");
}
}  // namespace

MembersAnswer decode_members(const Json& doc, std::string_view source) {
    expect_key(doc, "header", source, kMembersPath);
    const Reader r(doc, std::string(source), "");
    MembersAnswer answer;
    answer.header = decode_header(r, "header");
    if (const auto m = r.object("member")) answer.member = decode_member(*m);
    r.each("members", [&](const Reader& m) { answer.members.push_back(decode_member(m)); });
    return answer;
}

Health decode_health(const Json& doc, std::string_view source) {
    expect_key(doc, "ClusterHealth", source, kHealthPath);
    const Reader r(doc, std::string(source) + std::string(kHealthPath), "");
    Health health;
    health.header = decode_header(r, "Header");
    health.error = r.string("Error");
    r.each("ClusterHealth", [&](const Reader& m) {
        health.members.push_back(
            {m.id("MemberID", "MemberIDHex"), m.string("Name"), m.string("Err"), m.boolean("Healthy")});
    });
    r.each("Alarms", [&](const Reader& a) { health.alarms.push_back(decode_alarm(a)); });
    return health;
}

std::optional<ErrorBody> decode_error(std::string_view body) {
    try {
        const Json doc = Json::parse(body);
        const auto code = doc.find("code");
        const auto message = doc.find("message");
        if (!doc.is_object() || message == doc.end() || !message->is_string()) return std::nullopt;
        ErrorBody out{0, message->get<std::string>()};
        if (code != doc.end() && code->is_number_integer()) out.code = code->get<int>();
        return out;
    } catch (const Json::exception&) {
        return std::nullopt;
    }
}

std::string problems(const Health& health) {
    std::string out;
    const auto add = [&out](const std::string& item) { out += (out.empty() ? "" : "; ") + item; };
    if (!health.error.empty()) add(health.error);
    if (health.members.empty() && health.error.empty()) add("the backend reported no members");
    for (const auto& m : health.members)
        if (!m.healthy)
            add((m.name.empty() ? "unstarted member" : m.name) + " (" + store::hex_id(m.id) + ") unhealthy" +
                (m.error.empty() ? "" : ": " + m.error));
    for (const auto& a : health.alarms) add("alarm " + a.alarm + " on member " + store::hex_id(a.member_id));
    return out;
}

}  // namespace trellis::api
