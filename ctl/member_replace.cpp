#include "member_replace.hpp"

#include <algorithm>

#include "core/text.hpp"
#include "reconfig.hpp"
#include "render_node.hpp"
#include "store/etcd_client.hpp"
#include "validate.hpp"

using trellis::api::Json;

namespace trellis::ctl {
namespace {

api::Member find_named(const api::MembersAnswer& list, const std::string& name) {
    for (const auto& m : list.members)
        if (m.name == name) return m;
    throw Error(Code::MemberNotFound,
                "no member named " + name + " in the cluster (see `trellisctl cluster member-list`)");
}

// DELETE then POST, each waiting out etcd's strict reconfiguration check; the add's answer.
api::MembersAnswer remove_then_add(const ApiClient& client, const api::Member& dead, const std::string& urls,
                                   const ChangeOptions& change, Json& doc) {
    Json removed;
    members_or_throw(
        send_waiting_out_unhealthy([&] { return client.send(Method::Delete, api::member_path(dead.id), accept_write); },
                                   change.wait, change.notice),
        removed, dead.id);
    if (change.notice) change.notice("removed member " + store::hex_id(dead.id) + " (" + dead.name + ")");
    try {
        const std::string target = add_target(dead.name, urls, !change.voter);
        return members_or_throw(
            send_waiting_out_unhealthy([&] { return client.send(Method::Post, target, accept_write); }, change.wait,
                                       change.notice),
            doc);
    } catch (const Error& e) {
        throw Error(e.code(), "removed member " + store::hex_id(dead.id) + " (" + dead.name +
                                  ") but adding its replacement failed: " + e.what() +
                                  "; add it with `trellisctl cluster member-add " + dead.name + " " + urls + "`");
    }
}

}  // namespace

void check_replaceable(const api::Health& health, std::uint64_t dead_id, const std::string& name) {
    std::size_t healthy_others = 0, others = 0;
    for (const auto& m : health.members) {
        if (m.id == dead_id) {
            if (m.healthy)
                throw Error(Code::InputInvalidValue,
                            "member " + name + " (" + store::hex_id(dead_id) +
                                ") is healthy: member-replace is for a dead member (use member-remove, then "
                                "member-add, to move a live one)");
            continue;
        }
        ++others;
        if (m.healthy) ++healthy_others;
    }
    const std::size_t quorum = others / 2 + 1;
    if (healthy_others < quorum)
        throw Error(Code::StoreUnavailable,
                    "replacing " + name + " would leave " + std::to_string(healthy_others) + " healthy of " +
                        std::to_string(others) + " members, short of a quorum of " + std::to_string(quorum) +
                        ": bring members back first, or recover from the loss of quorum (docs/recovery.md)");
}

int member_replace(const ApiClient& client, const std::string& name, const std::string& peer_urls,
                   const std::optional<RenderRequest>& render, const ChangeOptions& change, Format format,
                   std::ostream& out) {
    check_member_name(name);
    const std::string urls = join(parse_peer_urls(peer_urls), ",");
    Json list_doc, health_doc;
    const api::Member dead = find_named(
        members_or_throw(client.send(Method::Get, std::string(api::kMembersPath), accept_read), list_doc), name);
    check_replaceable(fetch_health(client, health_doc), dead.id, name);

    // Render first: a spec or certificate problem must not cost the cluster a member.
    std::optional<RenderedNode> rendered;
    if (render) rendered = render_node(render->spec, render->out, name, parse_peer_urls(peer_urls).front(), true);
    Json doc;
    api::MembersAnswer answer;
    try {
        answer = remove_then_add(client, dead, urls, change, doc);
    } catch (...) {
        if (rendered) rendered->undo();
        throw;
    }
    if (format != Format::Table) {
        doc["Removed"] = {{"ID", dead.id}, {"IDHex", store::hex_id(dead.id)}, {"Name", dead.name}};
        print(out, render_document(doc, format));
        return 0;
    }
    std::string text = member_removed_text(dead.id) + member_added_text(answer, name);
    if (!change.voter) text += "\n" + name + " joins as a learner and is promoted once it has caught up\n";
    if (rendered)
        text += "wrote " + std::to_string(rendered->files.size()) + " files for " + name +
                "; start it (with an empty state-dir) with: trellis-backend start --config " +
                (rendered->dir / "backend.yml").string() + "\n";
    print(out, text);
    return 0;
}

}  // namespace trellis::ctl
