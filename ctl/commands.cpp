#include "commands.hpp"

#include <algorithm>
#include <cmath>

#include <httplib.h>

#include "core/error.hpp"
#include "core/text.hpp"
#include "reconfig.hpp"
#include "render_node.hpp"
#include "store/etcd_client.hpp"
#include "validate.hpp"

using trellis::api::Json;

namespace trellis::ctl {

// Reads are retried on another backend after any server-side failure; a mutation only after 503, which the
// API uses for "etcd unreachable", where nothing was applied (docs/api.md).
bool accept_read(const Response& r) { return r.status < 500; }
bool accept_write(const Response& r) { return r.status != 503; }

api::MembersAnswer members_or_throw(const Response& response, Json& doc, std::uint64_t member) {
    if (response.status < 200 || response.status >= 300) {
        const Error e = api_error(response);
        if (e.code() == Code::MemberNotFound && member != 0)
            throw Error(e.code(), "no member " + store::hex_id(member) +
                                      " in the cluster (see `trellisctl cluster member-list`): " + e.what());
        throw e;
    }
    doc = api::parse_json(response.body, response.url);
    return api::decode_members(doc, response.url);
}

void print(std::ostream& out, const std::string& text) {
    out << text;
    out.flush();
}

std::string add_target(const std::string& name, const std::string& peer_urls, bool learner) {
    httplib::Params params{{"name", name}, {"peer-addrs", peer_urls}};
    if (learner) params.emplace("learner", "true");
    return httplib::append_query_params(std::string(api::kMembersPath), params);
}

api::Health fetch_health(const ApiClient& client, Json& doc) {
    // Ask the backend to give up on a member a little before we give up on the backend.
    const long long seconds = std::clamp<long long>(client.settings().timeout_ms / 1000 - 1, 1, 3);
    const std::string target =
        httplib::append_query_params(std::string(api::kHealthPath), {{"timeout", std::to_string(seconds)}});
    const auto has_health = [](const Response& r) {
        // 200 and 503 both carry the health document; a 503 whose backend reached no member at all
        // ("Error" set) is worth asking another backend about.
        if (r.status == 200) return true;
        if (r.status != 503) return false;
        try {
            return api::decode_health(api::parse_json(r.body, r.url), r.url).error.empty();
        } catch (const Error&) {
            return false;
        }
    };
    const Response response = client.send(Method::Get, target, has_health);
    if (response.status != 200 && response.status != 503) throw api_error(response);
    doc = api::parse_json(response.body, response.url);
    return api::decode_health(doc, response.url);
}

int cluster_health(const ApiClient& client, Format format, std::ostream& out) {
    Json doc;
    const api::Health health = fetch_health(client, doc);
    print(out, format == Format::Table ? health_table(health) : render_document(doc, format));
    if (const std::string problems = api::problems(health); !problems.empty())
        throw Error(Code::StoreUnavailable, "cluster unhealthy: " + problems);
    return 0;
}

int member_list(const ApiClient& client, Format format, std::ostream& out) {
    Json doc;
    const api::MembersAnswer answer =
        members_or_throw(client.send(Method::Get, std::string(api::kMembersPath), accept_read), doc);
    print(out, format == Format::Table ? member_list_table(answer) : render_document(doc, format));
    return 0;
}

int member_add(const ApiClient& client, const std::string& name, const std::string& peer_urls,
               const std::optional<RenderRequest>& render, const ChangeOptions& change, Format format,
               std::ostream& out) {
    check_member_name(name);
    const std::vector<std::string> urls = parse_peer_urls(peer_urls);
    const std::string joined = join(urls, ",");

    // Render first: a spec or certificate problem must not leave the cluster with a member that cannot start.
    std::optional<RenderedNode> rendered;
    if (render) rendered = render_node(render->spec, render->out, name, urls.front());

    const std::string target = add_target(name, joined, !change.voter);
    Json doc;
    api::MembersAnswer answer;
    try {
        const Response response = send_waiting_out_unhealthy(
            [&] { return client.send(Method::Post, target, accept_write); }, change.wait, change.notice);
        answer = members_or_throw(response, doc);
        if (!answer.member) throw Error(Code::HttpError, "the backend's answer to member-add has no \"Member\"");
    } catch (...) {
        if (rendered) rendered->undo();
        throw;
    }

    const AddEnvironment env = add_environment(answer, name);
    if (format == Format::Table) {
        std::string text = member_added_text(answer, name);
        if (!change.voter)
            text += "\n" + name +
                    " joins as a learner; the leader's backend promotes it to a voting member once "
                    "it has caught up\n";
        if (rendered)
            text += "\nwrote " + std::to_string(rendered->files.size()) + " files for " + name +
                    "; start it with: trellis-backend start --config " + (rendered->dir / "backend.yml").string() +
                    "\nthen add it to the spec's nodes:\n" + rendered->spec_line + "\n";
        print(out, text);
    } else {
        doc["Environment"] = {{"ETCD_NAME", env.name},
                              {"ETCD_INITIAL_CLUSTER", env.initial_cluster},
                              {"ETCD_INITIAL_CLUSTER_STATE", env.state}};
        if (rendered) {
            Json files = Json::array();
            for (const auto& f : rendered->files) files.push_back(f.string());
            doc["Rendered"] = {{"Dir", rendered->dir.string()}, {"Files", files}, {"SpecLine", rendered->spec_line}};
        }
        print(out, render_document(doc, format));
    }
    return 0;
}

int member_remove(const ApiClient& client, const std::string& id_text, Format format, std::ostream& out) {
    const std::uint64_t id = parse_member_id(id_text);
    Json doc;
    members_or_throw(client.send(Method::Delete, api::member_path(id), accept_write), doc, id);
    print(out, format == Format::Table ? member_removed_text(id) : render_document(doc, format));
    return 0;
}

int member_update(const ApiClient& client, const std::string& id_text, const std::string& peer_urls, Format format,
                  std::ostream& out) {
    const std::uint64_t id = parse_member_id(id_text);
    const std::vector<std::string> urls = parse_peer_urls(peer_urls);
    const std::string joined = join(urls, ",");
    const std::string target = httplib::append_query_params(api::member_path(id), {{"peer-addrs", joined}});
    Json doc;
    members_or_throw(client.send(Method::Put, target, accept_write), doc, id);
    print(out, format == Format::Table ? member_updated_text(id) : render_document(doc, format));
    return 0;
}

}  // namespace trellis::ctl
