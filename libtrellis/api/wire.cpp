#include "api/wire.hpp"

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

    std::string string(std::string_view key, bool required = false) const {
        const Json* v = find(key);
        if (v == nullptr) {
            if (required) fail(key, "missing");
            return {};
        }
        if (!v->is_string()) fail(key, "expected a string");
        return v->get<std::string>();
    }

    bool boolean(std::string_view key) const {
        const Json* v = find(key);
        if (v == nullptr || !v->is_boolean()) fail(key, "expected true or false");
        return v->get<bool>();
    }

    // A 64-bit ID: the exact JSON number if present (parsed unsigned), else the hex twin; both must agree.
    std::uint64_t id(std::string_view key, std::string_view hex_key) const {
        const Json* number = find(key);
        const Json* hex = find(hex_key);
        std::optional<std::uint64_t> from_number, from_hex;
        if (number != nullptr) {
            if (!number->is_number_unsigned() && !(number->is_number_integer() && number->get<std::int64_t>() >= 0))
                fail(key, "expected an unsigned 64-bit integer");
            from_number = number->get<std::uint64_t>();
        }
        if (hex != nullptr) {
            if (!hex->is_string()) fail(hex_key, "expected a hex string");
            // Not parse_hex_id: a cluster ID of 0 is legitimate where no member answered.
            const std::string text = hex->get<std::string>();
            std::uint64_t value = 0;
            const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 16);
            if (text.empty() || text.size() > 16 || ec != std::errc() || ptr != text.data() + text.size())
                fail(hex_key, "expected up to 16 hex digits");
            from_hex = value;
        }
        if (!from_number && !from_hex) fail(key, "missing");
        if (from_number && from_hex && *from_number != *from_hex)
            fail(hex_key, "does not match " + std::string(key) + " " + std::to_string(*from_number));
        return from_number ? *from_number : *from_hex;
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

Json encode_header(const ResponseHeader& h) {
    return {{"cluster_id", h.cluster_id},
            {"cluster_id_hex", store::hex_id(h.cluster_id)},
            {"member_id", h.member_id},
            {"raft_term", h.raft_term}};
}

ResponseHeader decode_header(const Reader& doc) {
    const auto header = doc.object("Header");
    ResponseHeader out;
    if (header) out.cluster_id = header->id("cluster_id", "cluster_id_hex");
    return out;
}

Json encode_member(const Member& m) {
    return {{"ID", m.id},
            {"IDHex", store::hex_id(m.id)},
            {"Name", m.name},
            {"PeerURLs", m.peer_urls},
            {"ClientURLs", m.client_urls}};
}

Member decode_member(const Reader& r) {
    return Member{r.id("ID", "IDHex"), r.string("Name"), r.strings("PeerURLs"), r.strings("ClientURLs")};
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

Json encode(const MembersAnswer& answer) {
    Json list = Json::array();
    for (const auto& m : answer.members) list.push_back(encode_member(m));
    Json out{{"Header", encode_header(answer.header)}};
    if (answer.member) out["Member"] = encode_member(*answer.member);
    out["Members"] = list;
    return out;
}

Json encode(const Health& health) {
    Json alarms = Json::array(), members = Json::array();
    for (const auto& a : health.alarms)
        alarms.push_back({{"MemberID", a.member_id}, {"MemberIDHex", store::hex_id(a.member_id)}, {"Alarm", a.alarm}});
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

Json parse_json(std::string_view body, std::string_view source) {
    try {
        return Json::parse(body);
    } catch (const Json::parse_error& e) {
        throw Error(Code::HttpError, std::string(source) + ": the backend's answer is not JSON: " + e.what());
    }
}

MembersAnswer decode_members(const Json& doc, std::string_view source) {
    const Reader r(doc, std::string(source), "");
    MembersAnswer answer;
    answer.header = decode_header(r);
    if (const auto m = r.object("Member")) answer.member = decode_member(*m);
    r.each("Members", [&](const Reader& m) { answer.members.push_back(decode_member(m)); });
    return answer;
}

Health decode_health(const Json& doc, std::string_view source) {
    const Reader r(doc, std::string(source) + std::string(kHealthPath), "");
    Health health;
    health.header = decode_header(r);
    health.error = r.string("Error");
    r.each("ClusterHealth", [&](const Reader& m) {
        health.members.push_back(
            {m.id("MemberID", "MemberIDHex"), m.string("Name"), m.string("Err"), m.boolean("Healthy")});
    });
    r.each("Alarms", [&](const Reader& a) {
        health.alarms.push_back({a.id("MemberID", "MemberIDHex"), a.string("Alarm", true)});
    });
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
