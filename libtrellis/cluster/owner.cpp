#include "cluster/owner.hpp"

#include <grp.h>
#include <pwd.h>

#include <vector>

#include "core/error.hpp"

namespace trellis::cluster {
namespace {

[[noreturn]] void unknown(const Spec& spec, const OwnerSpec& o, const std::string& key, const std::string& what,
                          const std::string& name) {
    throw Error(Code::OwnerUnknown, spec.source + ":" + std::to_string(o.line) + ": " + o.field + "." + key + ": no " +
                                        what + " \"" + name + "\" on this machine; create it (" +
                                        (what == "user" ? "useradd --system " : "groupadd --system ") + name +
                                        ") or name one that exists");
}

void resolve(const Spec& spec, OwnerSpec& o) {
    std::vector<char> buf(16384);
    passwd pw{};
    passwd* user = nullptr;
    if (::getpwnam_r(o.user.c_str(), &pw, buf.data(), buf.size(), &user) != 0 || user == nullptr)
        unknown(spec, o, "user", "user", o.user);
    o.uid = o.group_mode ? 0 : user->pw_uid;
    o.gid = user->pw_gid;
    if (o.group.empty()) return;
    group gr{};
    group* found = nullptr;
    if (::getgrnam_r(o.group.c_str(), &gr, buf.data(), buf.size(), &found) != 0 || found == nullptr)
        unknown(spec, o, "group", "group", o.group);
    o.gid = found->gr_gid;
}

}  // namespace

void resolve_owners(Spec& spec) {
    if (spec.owner) resolve(spec, *spec.owner);
    for (auto& n : spec.nodes)
        if (n.owner) resolve(spec, *n.owner);
}

FileOwner files_owner(const OwnerSpec& owner) { return FileOwner{owner.uid, owner.gid}; }

mode_t key_mode(const OwnerSpec& owner) { return owner.group_mode ? kGroupSecretMode : kSecretMode; }

}  // namespace trellis::cluster
