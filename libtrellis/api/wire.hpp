// The backend API's wire types and their JSON (docs/api.md), in one place for
// both ends: trellis-backend encodes, trellisctl decodes, tests check both
// against the same fixtures. Pure: no I/O, no HTTP library.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "store/etcd_client.hpp"
#include "store/health.hpp"

namespace trellis::api {

// Documents keep their members in the order written, as Go's encoding/json does for a struct.
using Json = nlohmann::ordered_json;

// The endpoints (docs/api.md).
inline constexpr std::string_view kHealthPath = "/health";
inline constexpr std::string_view kMembersPath = "/api/core/v2/cluster/members";
// Trellis's own: a stream of etcd's snapshot (application/octet-stream), not a JSON document.
inline constexpr std::string_view kSnapshotPath = "/api/trellis/v1/snapshot";
// POST: restart this node's supervised etcd (a rollout step; backend/etcd_restart.hpp).
inline constexpr std::string_view kEtcdRestartPath = "/api/trellis/v1/etcd/restart";
std::string member_path(std::uint64_t id);  // kMembersPath + "/" + hex ID

// What travels: etcd's own types, as the store client decodes them from etcd.
using store::Alarm;
using store::Member;
using store::MemberHealth;
using store::ResponseHeader;
using Health = store::ClusterHealth;
// The answer of every members endpoint: list, add (`member` set: the new member), update and remove
// (`members`: the whole list after the change).
using MembersAnswer = store::MemberChange;
MembersAnswer members_answer(const store::MemberList& list);

// The body of every error answer: a trellis::Error's stable code and its one-line message.
struct ErrorBody {
    int code = 0;
    std::string message;
};
ErrorBody error_body(const Error& error);
// The HTTP status an error is answered with (docs/api.md): 400, 403, 404, 409, 503, else 500.
int http_status_for(const Error& error);

Json encode(const MembersAnswer& answer);
Json encode(const Health& health);
Json encode(const ErrorBody& body);

// Readers. A document that does not have the documented shape is Code::HttpError naming `source`
// (the backend URL) and the field; one that lacks what every answer has, or is not JSON, is
// not_an_api(): something else (etcd, a web server) answered.
Error not_an_api(std::string_view source, std::string_view why);  // Code::HttpError, "this is not a Trellis API"
Json parse_json(std::string_view body, std::string_view source);
MembersAnswer decode_members(const Json& doc, std::string_view source);
Health decode_health(const Json& doc, std::string_view source);
// The error body if `body` is one, else nullopt (a proxy's HTML page, an empty body).
std::optional<ErrorBody> decode_error(std::string_view body);

// One line saying why `health` is not healthy ("backend-2 (c3d9f4b8d0dd1ac9) unhealthy: dial tcp ..."),
// empty when it is.
std::string problems(const Health& health);

}  // namespace trellis::api
