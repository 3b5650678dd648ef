// What trellisctl prints, as pure functions of the API's answers (decoded by
// libtrellis/api, docs/api.md): the guide's tables and lines, or the document itself as JSON
// or YAML for scripts. No I/O here, so golden tests need no server.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "api/wire.hpp"

namespace trellis::ctl {

enum class Format { Table, Json, Yaml };
Format parse_format(std::string_view text);  // Code::Usage for anything but table, json, yaml

// The member-add environment lines, as etcdctl prints them: every peer URL of every member as
// name=url (the new member, not started yet, takes `new_name`).
struct AddEnvironment {
    std::string name;
    std::string initial_cluster;
    std::string state = "existing";
};
AddEnvironment add_environment(const api::MembersAnswer& answer, const std::string& new_name);

// Text renderings (Format::Table).
std::string health_table(const api::Health& health);
std::string member_list_table(const api::MembersAnswer& answer);
std::string member_added_text(const api::MembersAnswer& answer, const std::string& new_name);
std::string member_removed_text(std::uint64_t id);
std::string member_updated_text(std::uint64_t id);

// A JSON document in the requested machine format: pretty JSON (64-bit integers exact) or YAML with the
// same structure (strings quoted, so hex IDs stay strings).
std::string render_document(const api::Json& doc, Format format);

}  // namespace trellis::ctl
