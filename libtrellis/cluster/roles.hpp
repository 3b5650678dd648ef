// Who may do what (docs/api.md, "Roles"): every certificate Trellis issues carries its role in the
// subject's Organization (O), as Kubernetes carries groups, and the backend API authorizes each request
// from the verified client certificate's O against ONE table, role -> the actions it may take.
//
//   admin   an operator: reads, membership changes, snapshots
//   reader  monitoring and dashboards: reads only
//   agent   a counted agent: nothing on the API (it talks to etcd)
//   node    a node's own certificates: nothing on the API (backends call etcd, never each other's API)
//
// Pure: no I/O. The backend reads the organizations of the verified certificate and asks authorize().
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace trellis::cluster {

enum class Role { Admin, Reader, Agent, Node };

// What the API lets a caller do; each endpoint needs exactly one (backend/api.cpp's route table).
enum class Action {
    Read,           // GET /health, GET members (and the views trellisctl builds on them)
    ChangeMembers,  // POST, PUT, DELETE members
    Snapshot,       // GET the snapshot: it holds every key
    RestartEtcd,    // POST etcd restart (trellisctl cluster rollout): takes a member down for a moment
};

struct RoleInfo {
    Role role;
    std::string_view name;        // the spec's `role:` value and the certificate's O
    std::span<const Action> may;  // what it may do on the API
    bool for_clients;             // may a spec's client have it (node is for nodes only)
    std::string_view summary;     // for docs and --help
};

std::span<const RoleInfo> roles();
const RoleInfo& role_info(Role role);
std::string_view role_name(Role role);
// The role named `name` ("admin"), or nullopt.
std::optional<Role> find_role(std::string_view name);
// "admin, reader or agent": the roles a spec's client may have, for messages.
std::string client_role_names();
bool may(Role role, Action action);

// The role a certificate's subject Organizations give it: the one O that names a role. nullopt when none
// does, or when two name different roles (ambiguous: refused rather than guessed).
std::optional<Role> role_of(std::span<const std::string> organizations);

// The identity a denial names: subject CN, serial (decimal) and its Organizations.
struct Caller {
    std::string cn;
    std::string serial;
    std::vector<std::string> organizations;
};

// Code::Forbidden naming the request (`what`: "GET /health"), the caller, the role it has and the roles
// that may, with the fix; nullopt when the caller's role may take `action`.
std::optional<Error> authorize(const Caller& caller, Action action, std::string_view what);

}  // namespace trellis::cluster
