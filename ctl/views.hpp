// What trellisctl prints, as pure functions of the API's JSON answers
// (docs/api.md): the guide's tables and lines, or the document itself as JSON
// or YAML for scripts. No I/O here, so golden tests need no server.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace trellis::ctl {

enum class Format { Table, Json, Yaml };
Format parse_format(std::string_view text);  // Code::Usage for anything but table, json, yaml

struct Member {
    std::uint64_t id = 0;
    std::string name;
    std::vector<std::string> peer_urls;
    std::vector<std::string> client_urls;
};

struct MemberHealth {
    std::uint64_t id = 0;
    std::string name;
    std::string error;
    bool healthy = false;
};

struct Alarm {
    std::uint64_t member_id = 0;
    std::string alarm;
};

struct Health {
    std::uint64_t cluster_id = 0;
    std::vector<MemberHealth> members;
    std::vector<Alarm> alarms;
    std::string error;  // set when the backend could not reach any member
    // Every member healthy, at least one member, no alarm and no error.
    bool ok() const;
    // One line saying what is wrong ("backend-2 (c3d9f4b8d0dd1ac9) unhealthy: dial tcp ..."), empty when ok().
    std::string problems() const;
};

struct MembersAnswer {
    std::uint64_t cluster_id = 0;
    std::optional<Member> added;  // "Member", present for add
    std::vector<Member> members;
};

// Readers of the API's documents. A document that does not have the documented shape is Code::HttpError
// naming `source` (the backend URL) and the field.
Health parse_health(const nlohmann::json& doc, std::string_view source);
MembersAnswer parse_members(const nlohmann::json& doc, std::string_view source);
nlohmann::json parse_body(std::string_view body, std::string_view source);

// The member-add environment lines, as etcdctl prints them: every peer URL of every member as
// name=url (the new member, not started yet, takes `new_name`).
struct AddEnvironment {
    std::string name;
    std::string initial_cluster;
    std::string state = "existing";
};
AddEnvironment add_environment(const MembersAnswer& answer, const std::string& new_name);

// Text renderings (Format::Table).
std::string health_table(const Health& health);
std::string member_list_table(const MembersAnswer& answer);
std::string member_added_text(const MembersAnswer& answer, const std::string& new_name);
std::string member_removed_text(std::uint64_t id);
std::string member_updated_text(std::uint64_t id);

// A JSON document in the requested machine format: pretty JSON (64-bit integers exact) or YAML with the
// same structure (strings quoted, so hex IDs stay strings).
std::string render_document(const nlohmann::json& doc, Format format);

}  // namespace trellis::ctl
