#include "cluster/roles.hpp"

#include <algorithm>
#include <array>

namespace trellis::cluster {
namespace {

constexpr std::array kAdmin{Action::Read, Action::ChangeMembers, Action::Snapshot, Action::RestartEtcd};
constexpr std::array kReader{Action::Read};
// Agents and nodes take no action on the API: agents talk to etcd, and a backend reaches the other
// members through etcd too (the promoter, snapshots and /health all dial etcd's client port), never
// through another backend's API. So a stolen node or agent key cannot change membership.
constexpr std::span<const Action> kNothing{};

constexpr std::array<RoleInfo, 4> kRoles{{
    {Role::Admin, "admin", kAdmin, true, "reads, membership changes, snapshots and etcd restarts"},
    {Role::Reader, "reader", kReader, true, "reads only: /health and the member list"},
    {Role::Agent, "agent", kNothing, true, "nothing on the API (agents talk to etcd)"},
    {Role::Node, "node", kNothing, false, "a node's own certificates: nothing on the API"},
}};

std::string or_list(const std::vector<std::string_view>& names) {
    std::string out;
    for (std::size_t i = 0; i < names.size(); ++i)
        out += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + std::string(names[i]);
    return out;
}

std::vector<std::string_view> roles_that_may(Action action) {
    std::vector<std::string_view> out;
    for (const auto& r : kRoles)
        if (may(r.role, action)) out.push_back(r.name);
    return out;
}

std::string identity(const Caller& c) {
    return "CN=" + (c.cn.empty() ? std::string("(none)") : excerpt(c.cn)) + ", serial " + c.serial;
}

std::string organizations_text(const Caller& c) {
    if (c.organizations.empty()) return "no O";
    std::string out;
    for (const auto& o : c.organizations) out += (out.empty() ? "O=" : ",O=") + excerpt(o, 40);
    return out;
}

}  // namespace

std::span<const RoleInfo> roles() { return kRoles; }

const RoleInfo& role_info(Role role) {
    for (const auto& r : kRoles)
        if (r.role == role) return r;
    throw Error(Code::Internal, "role missing from the table");
}

std::string_view role_name(Role role) { return role_info(role).name; }

std::optional<Role> find_role(std::string_view name) {
    for (const auto& r : kRoles)
        if (r.name == name) return r.role;
    return std::nullopt;
}

std::string client_role_names() {
    std::vector<std::string_view> names;
    for (const auto& r : kRoles)
        if (r.for_clients) names.push_back(r.name);
    return or_list(names);
}

bool may(Role role, Action action) {
    const auto allowed = role_info(role).may;
    return std::find(allowed.begin(), allowed.end(), action) != allowed.end();
}

std::optional<Role> role_of(std::span<const std::string> organizations) {
    std::optional<Role> found;
    for (const auto& o : organizations) {
        const auto r = find_role(o);
        if (!r) continue;  // an O of the operator's own (a company name) is no role
        if (found && *found != *r) return std::nullopt;
        found = r;
    }
    return found;
}

std::optional<Error> authorize(const Caller& caller, Action action, std::string_view what) {
    const auto role = role_of(caller.organizations);
    if (role && may(*role, action)) return std::nullopt;
    const std::vector<std::string_view> need = roles_that_may(action);
    const std::string head =
        std::string(what) + " needs role " + or_list(need) + "; this certificate (" + identity(caller) + ") ";
    if (role)
        return Error(Code::Forbidden, head + "has role " + std::string(role_name(*role)) +
                                          "; use a certificate of role " + or_list(need));
    std::vector<std::string> want;
    for (const auto n : need) want.push_back("O=" + std::string(n));
    return Error(Code::Forbidden, head + "has no Trellis role (" + organizations_text(caller) +
                                      "): re-provision or renew it (cluster-config provision) to get one with " +
                                      or_list({want.begin(), want.end()}));
}

}  // namespace trellis::cluster
