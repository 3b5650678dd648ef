#include "views.hpp"

#include <yaml-cpp/yaml.h>

#include "core/error.hpp"
#include "core/text.hpp"
#include "store/etcd_client.hpp"
#include "table.hpp"

using trellis::api::Json;

namespace trellis::ctl {
namespace {

struct FormatName {
    std::string_view name;
    Format format;
};
constexpr std::array<FormatName, 3> kFormats{
    {{"table", Format::Table}, {"json", Format::Json}, {"yaml", Format::Yaml}}};

void emit_yaml(YAML::Emitter& out, const Json& value) {
    switch (value.type()) {
        case Json::value_t::object:
            out << YAML::BeginMap;
            for (const auto& [key, item] : value.items()) {
                out << YAML::Key << key << YAML::Value;
                emit_yaml(out, item);
            }
            out << YAML::EndMap;
            break;
        case Json::value_t::array:
            out << YAML::BeginSeq;
            for (const auto& item : value) emit_yaml(out, item);
            out << YAML::EndSeq;
            break;
        case Json::value_t::string:
            out << YAML::DoubleQuoted << value.get<std::string>();
            break;
        case Json::value_t::boolean:
            out << (value.get<bool>() ? "true" : "false");
            break;
        case Json::value_t::null:
            out << YAML::Null;
            break;
        default:  // numbers: nlohmann prints 64-bit integers exactly
            out << value.dump();
            break;
    }
}

std::string name_of(const api::Health& health, std::uint64_t id) {
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

AddEnvironment add_environment(const api::MembersAnswer& answer, const std::string& new_name) {
    AddEnvironment env;
    env.name = new_name;
    std::vector<std::string> pairs;
    const std::uint64_t new_id = answer.member ? answer.member->id : 0;
    for (const auto& m : answer.members)
        for (const auto& url : m.peer_urls) pairs.push_back((m.id == new_id ? new_name : m.name) + "=" + url);
    env.initial_cluster = join(pairs, ",");
    return env;
}

std::string health_table(const api::Health& health) {
    using api::MemberHealth;
    const std::vector<Column<MemberHealth>> columns{
        {"ID", [](const MemberHealth& m) { return store::hex_id(m.id); }},
        {"Name", [](const MemberHealth& m) { return m.name; }},
        {"Error", [](const MemberHealth& m) { return m.error; }},
        {"Healthy", [](const MemberHealth& m) { return std::string(m.healthy ? "true" : "false"); }},
    };
    std::string out = "=== Etcd Cluster ID: " + store::hex_id(health.header.cluster_id) + "\n";
    if (!health.error.empty()) out += "Error: " + health.error + "\n";
    out += render_table(columns, health.members);
    if (!health.alarms.empty()) {
        using api::Alarm;
        const std::vector<Column<Alarm>> alarm_columns{
            {"Member ID", [](const Alarm& a) { return store::hex_id(a.member_id); }},
            {"Name", [&](const Alarm& a) { return name_of(health, a.member_id); }},
            {"Alarm", [](const Alarm& a) { return a.alarm; }},
        };
        out += "\n=== Alarms\n" + render_table(alarm_columns, health.alarms);
    }
    return out;
}

std::string member_list_table(const api::MembersAnswer& answer) {
    using api::Member;
    const std::vector<Column<Member>> columns{
        {"ID", [](const Member& m) { return store::hex_id(m.id); }},
        {"Name", [](const Member& m) { return m.name; }},
        {"Peer URLs", [](const Member& m) { return join(m.peer_urls, ","); }},
        {"Client URLs", [](const Member& m) { return join(m.client_urls, ","); }},
    };
    return render_table(columns, answer.members);
}

std::string member_added_text(const api::MembersAnswer& answer, const std::string& new_name) {
    const AddEnvironment env = add_environment(answer, new_name);
    return "added member " + store::hex_id(answer.member ? answer.member->id : 0) + " to cluster\n\n" + "ETCD_NAME=\"" +
           env.name + "\"\n" + "ETCD_INITIAL_CLUSTER=\"" + env.initial_cluster + "\"\n" +
           "ETCD_INITIAL_CLUSTER_STATE=\"" + env.state + "\"\n";
}

std::string member_removed_text(std::uint64_t id) { return "Removed member " + store::hex_id(id) + " from cluster\n"; }

std::string member_updated_text(std::uint64_t id) {
    return "Updated member with ID " + store::hex_id(id) + " in cluster\n";
}

std::string render_document(const Json& doc, Format format) {
    if (format == Format::Yaml) {
        YAML::Emitter out;
        emit_yaml(out, doc);
        return std::string(out.c_str()) + "\n";
    }
    return doc.dump(2) + "\n";
}

}  // namespace trellis::ctl
