#include "commands.hpp"

#include <algorithm>
#include <cmath>

#include <httplib.h>

#include "core/error.hpp"
#include "render_node.hpp"
#include "store/etcd_client.hpp"
#include "validate.hpp"

using nlohmann::json;

namespace trellis::ctl {
namespace {

constexpr std::string_view kMembers = "/api/core/v2/cluster/members";

// Reads are retried on another backend after any server-side failure; a mutation only after 503, which the
// API uses for "etcd unreachable", where nothing was applied (docs/api.md).
bool accept_read(const Response& r) { return r.status < 500; }
bool accept_write(const Response& r) { return r.status != 503; }

MembersAnswer members_or_throw(const Response& response, json& doc, std::uint64_t member = 0) {
    if (response.status < 200 || response.status >= 300) {
        const Error e = api_error(response);
        if (e.code() == Code::MemberNotFound && member != 0)
            throw Error(e.code(), "no member " + store::hex_id(member) +
                                      " in the cluster (see `trellisctl cluster member-list`): " + e.what());
        throw e;
    }
    doc = parse_body(response.body, response.url);
    return parse_members(doc, response.url);
}

void print(std::ostream& out, const std::string& text) {
    out << text;
    out.flush();
}

}  // namespace

std::string health_path() { return "/health"; }
std::string members_path() { return std::string(kMembers); }
std::string member_path(std::uint64_t id) { return std::string(kMembers) + "/" + store::hex_id(id); }

int cluster_health(const ApiClient& client, Format format, std::ostream& out) {
    // Ask the backend to give up on a member a little before we give up on the backend.
    const long long seconds = std::clamp<long long>(client.settings().timeout_ms / 1000 - 1, 1, 3);
    const std::string target = httplib::append_query_params(health_path(), {{"timeout", std::to_string(seconds)}});
    const auto has_health = [](const Response& r) {
        // 200 and 503 both carry the health document; a 503 whose backend reached no member at all
        // ("Error" set) is worth asking another backend about.
        if (r.status == 200) return true;
        if (r.status != 503) return false;
        try {
            const json doc = json::parse(r.body);
            return doc.is_object() &&
                   !(doc.contains("Error") && doc["Error"].is_string() && !doc["Error"].get<std::string>().empty());
        } catch (const json::exception&) {
            return false;
        }
    };
    const Response response = client.send(Method::Get, target, has_health);
    if (response.status != 200 && response.status != 503) throw api_error(response);
    const json doc = parse_body(response.body, response.url);
    const Health health = parse_health(doc, response.url);
    print(out, format == Format::Table ? health_table(health) : render_document(doc, format));
    if (!health.ok()) throw Error(Code::StoreUnavailable, "cluster unhealthy: " + health.problems());
    return 0;
}

int member_list(const ApiClient& client, Format format, std::ostream& out) {
    json doc;
    const MembersAnswer answer = members_or_throw(client.send(Method::Get, members_path(), accept_read), doc);
    print(out, format == Format::Table ? member_list_table(answer) : render_document(doc, format));
    return 0;
}

int member_add(const ApiClient& client, const std::string& name, const std::string& peer_urls,
               const std::optional<RenderRequest>& render, Format format, std::ostream& out) {
    check_member_name(name);
    const std::vector<std::string> urls = parse_peer_urls(peer_urls);
    std::string joined;
    for (const auto& u : urls) joined += (joined.empty() ? "" : ",") + u;

    // Render first: a spec or certificate problem must not leave the cluster with a member that cannot start.
    std::optional<RenderedNode> rendered;
    if (render) rendered = render_node(render->spec, render->out, name, urls.front());

    const std::string target = httplib::append_query_params(members_path(), {{"name", name}, {"peer-addrs", joined}});
    json doc;
    MembersAnswer answer;
    try {
        answer = members_or_throw(client.send(Method::Post, target, accept_write), doc);
        if (!answer.added) throw Error(Code::HttpError, "the backend's answer to member-add has no \"Member\"");
    } catch (...) {
        if (rendered) rendered->undo();
        throw;
    }

    const AddEnvironment env = add_environment(answer, name);
    if (format == Format::Table) {
        std::string text = member_added_text(answer, name);
        if (rendered)
            text += "\nwrote " + std::to_string(rendered->files.size()) + " files for " + name +
                    "; start it with: trellis-backend start --config " + (rendered->dir / "backend.yml").string() +
                    "\n";
        print(out, text);
    } else {
        doc["Environment"] = {{"ETCD_NAME", env.name},
                              {"ETCD_INITIAL_CLUSTER", env.initial_cluster},
                              {"ETCD_INITIAL_CLUSTER_STATE", env.state}};
        if (rendered) {
            json files = json::array();
            for (const auto& f : rendered->files) files.push_back(f.string());
            doc["Rendered"] = {{"Dir", rendered->dir.string()}, {"Files", files}};
        }
        print(out, render_document(doc, format));
    }
    return 0;
}

int member_remove(const ApiClient& client, const std::string& id_text, Format format, std::ostream& out) {
    const std::uint64_t id = parse_member_id(id_text);
    json doc;
    members_or_throw(client.send(Method::Delete, member_path(id), accept_write), doc, id);
    print(out, format == Format::Table ? member_removed_text(id) : render_document(doc, format));
    return 0;
}

int member_update(const ApiClient& client, const std::string& id_text, const std::string& peer_urls, Format format,
                  std::ostream& out) {
    const std::uint64_t id = parse_member_id(id_text);
    const std::vector<std::string> urls = parse_peer_urls(peer_urls);
    std::string joined;
    for (const auto& u : urls) joined += (joined.empty() ? "" : ",") + u;
    const std::string target = httplib::append_query_params(member_path(id), {{"peer-addrs", joined}});
    json doc;
    members_or_throw(client.send(Method::Put, target, accept_write), doc, id);
    print(out, format == Format::Table ? member_updated_text(id) : render_document(doc, format));
    return 0;
}

}  // namespace trellis::ctl
