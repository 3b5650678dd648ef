#include "views.hpp"

#include <charconv>

#include <yaml-cpp/yaml.h>

#include "core/error.hpp"
#include "store/etcd_client.hpp"
#include "table.hpp"
#include "validate.hpp"

using nlohmann::json;

namespace trellis::ctl {
namespace {

struct FormatName {
    std::string_view name;
    Format format;
};
constexpr std::array<FormatName, 3> kFormats{
    {{"table", Format::Table}, {"json", Format::Json}, {"yaml", Format::Yaml}}};

// Typed access to an API document with errors naming the backend and the field path.
class Reader {
  public:
    Reader(const json& value, std::string source, std::string path)
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

    const json* find(std::string_view key) const {
        const auto it = value_.find(key);
        return it == value_.end() || it->is_null() ? nullptr : &*it;
    }

    std::string string(std::string_view key, bool required = false) const {
        const json* v = find(key);
        if (v == nullptr) {
            if (required) fail(key, "missing");
            return {};
        }
        if (!v->is_string()) fail(key, "expected a string");
        return v->get<std::string>();
    }

    bool boolean(std::string_view key) const {
        const json* v = find(key);
        if (v == nullptr || !v->is_boolean()) fail(key, "expected true or false");
        return v->get<bool>();
    }

    // A 64-bit ID: the exact JSON number if present (parsed unsigned), else the hex twin; both must agree.
    std::uint64_t id(std::string_view key, std::string_view hex_key) const {
        const json* number = find(key);
        const json* hex = find(hex_key);
        std::optional<std::uint64_t> from_number, from_hex;
        if (number != nullptr) {
            if (!number->is_number_unsigned() && !(number->is_number_integer() && number->get<std::int64_t>() >= 0))
                fail(key, "expected an unsigned 64-bit integer");
            from_number = number->get<std::uint64_t>();
        }
        if (hex != nullptr) {
            if (!hex->is_string()) fail(hex_key, "expected a hex string");
            // Not parse_member_id: a cluster ID of 0 is legitimate where no member answered.
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
        const json* v = find(key);
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
        const json* v = find(key);
        if (v == nullptr) return;
        if (!v->is_array()) fail(key, "expected a list");
        for (std::size_t i = 0; i < v->size(); ++i)
            f(Reader((*v)[i], source_,
                     (path_.empty() ? "" : path_ + ".") + std::string(key) + "[" + std::to_string(i) + "]"));
    }

    std::optional<Reader> object(std::string_view key) const {
        const json* v = find(key);
        if (v == nullptr) return std::nullopt;
        return Reader(*v, source_, (path_.empty() ? "" : path_ + ".") + std::string(key));
    }

  private:
    const json& value_;
    std::string source_;
    std::string path_;
};

std::uint64_t cluster_id(const Reader& doc) {
    const auto header = doc.object("Header");
    return header ? header->id("cluster_id", "cluster_id_hex") : 0;
}

Member read_member(const Reader& r) {
    return Member{r.id("ID", "IDHex"), r.string("Name"), r.strings("PeerURLs"), r.strings("ClientURLs")};
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : std::string(sep)) + item;
    return out;
}

void emit_yaml(YAML::Emitter& out, const json& value) {
    switch (value.type()) {
        case json::value_t::object:
            out << YAML::BeginMap;
            for (const auto& [key, item] : value.items()) {
                out << YAML::Key << key << YAML::Value;
                emit_yaml(out, item);
            }
            out << YAML::EndMap;
            break;
        case json::value_t::array:
            out << YAML::BeginSeq;
            for (const auto& item : value) emit_yaml(out, item);
            out << YAML::EndSeq;
            break;
        case json::value_t::string:
            out << YAML::DoubleQuoted << value.get<std::string>();
            break;
        case json::value_t::boolean:
            out << (value.get<bool>() ? "true" : "false");
            break;
        case json::value_t::null:
            out << YAML::Null;
            break;
        default:  // numbers: nlohmann prints 64-bit integers exactly
            out << value.dump();
            break;
    }
}

std::string name_of(const Health& health, std::uint64_t id) {
    for (const auto& m : health.members)
        if (m.id == id) return m.name;
    return {};
}

}  // namespace

Format parse_format(std::string_view text) {
    for (const auto& f : kFormats)
        if (f.name == text) return f.format;
    throw Error(Code::Usage, "--format: \"" + std::string(text) + "\" is not a format: use table, json or yaml");
}

bool Health::ok() const { return problems().empty(); }

std::string Health::problems() const {
    std::vector<std::string> out;
    if (!error.empty()) out.push_back(error);
    if (members.empty() && error.empty()) out.push_back("the backend reported no members");
    for (const auto& m : members)
        if (!m.healthy)
            out.push_back((m.name.empty() ? "unstarted member" : m.name) + " (" + store::hex_id(m.id) + ") unhealthy" +
                          (m.error.empty() ? "" : ": " + m.error));
    for (const auto& a : alarms) out.push_back("alarm " + a.alarm + " on member " + store::hex_id(a.member_id));
    return join(out, "; ");
}

json parse_body(std::string_view body, std::string_view source) {
    try {
        return json::parse(body);
    } catch (const json::parse_error& e) {
        throw Error(Code::HttpError, std::string(source) + ": the backend's answer is not JSON: " + e.what());
    }
}

Health parse_health(const json& doc, std::string_view source) {
    const Reader r(doc, std::string(source) + "/health", "");
    Health health;
    health.cluster_id = cluster_id(r);
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

MembersAnswer parse_members(const json& doc, std::string_view source) {
    const Reader r(doc, std::string(source), "");
    MembersAnswer answer;
    answer.cluster_id = cluster_id(r);
    if (const auto m = r.object("Member")) answer.added = read_member(*m);
    r.each("Members", [&](const Reader& m) { answer.members.push_back(read_member(m)); });
    return answer;
}

AddEnvironment add_environment(const MembersAnswer& answer, const std::string& new_name) {
    AddEnvironment env;
    env.name = new_name;
    std::vector<std::string> pairs;
    const std::uint64_t new_id = answer.added ? answer.added->id : 0;
    for (const auto& m : answer.members)
        for (const auto& url : m.peer_urls) pairs.push_back((m.id == new_id ? new_name : m.name) + "=" + url);
    env.initial_cluster = join(pairs, ",");
    return env;
}

std::string health_table(const Health& health) {
    const std::vector<Column<MemberHealth>> columns{
        {"ID", [](const MemberHealth& m) { return store::hex_id(m.id); }},
        {"Name", [](const MemberHealth& m) { return m.name; }},
        {"Error", [](const MemberHealth& m) { return m.error; }},
        {"Healthy", [](const MemberHealth& m) { return std::string(m.healthy ? "true" : "false"); }},
    };
    std::string out = "=== Etcd Cluster ID: " + store::hex_id(health.cluster_id) + "\n";
    if (!health.error.empty()) out += "Error: " + health.error + "\n";
    out += render_table(columns, health.members);
    if (!health.alarms.empty()) {
        const std::vector<Column<Alarm>> alarm_columns{
            {"Member ID", [](const Alarm& a) { return store::hex_id(a.member_id); }},
            {"Name", [&](const Alarm& a) { return name_of(health, a.member_id); }},
            {"Alarm", [](const Alarm& a) { return a.alarm; }},
        };
        out += "\n=== Alarms\n" + render_table(alarm_columns, health.alarms);
    }
    return out;
}

std::string member_list_table(const MembersAnswer& answer) {
    const std::vector<Column<Member>> columns{
        {"ID", [](const Member& m) { return store::hex_id(m.id); }},
        {"Name", [](const Member& m) { return m.name; }},
        {"Peer URLs", [](const Member& m) { return join(m.peer_urls, ","); }},
        {"Client URLs", [](const Member& m) { return join(m.client_urls, ","); }},
    };
    return render_table(columns, answer.members);
}

std::string member_added_text(const MembersAnswer& answer, const std::string& new_name) {
    const AddEnvironment env = add_environment(answer, new_name);
    return "added member " + store::hex_id(answer.added ? answer.added->id : 0) + " to cluster\n\n" + "ETCD_NAME=\"" +
           env.name + "\"\n" + "ETCD_INITIAL_CLUSTER=\"" + env.initial_cluster + "\"\n" +
           "ETCD_INITIAL_CLUSTER_STATE=\"" + env.state + "\"\n";
}

std::string member_removed_text(std::uint64_t id) { return "Removed member " + store::hex_id(id) + " from cluster\n"; }

std::string member_updated_text(std::uint64_t id) {
    return "Updated member with ID " + store::hex_id(id) + " in cluster\n";
}

std::string render_document(const json& doc, Format format) {
    if (format == Format::Yaml) {
        YAML::Emitter out;
        emit_yaml(out, doc);
        return std::string(out.c_str()) + "\n";
    }
    return doc.dump(2) + "\n";
}

}  // namespace trellis::ctl
