#include "rollout.hpp"

#include <thread>

#include "certs.hpp"
#include "commands.hpp"
#include "table.hpp"

namespace trellis::ctl {
namespace {

using Clock = std::chrono::steady_clock;

// One client per node: the restart must reach that node's backend, never fail over to another.
ApiClient client_for(const ApiClient& client, const std::string& url) {
    Settings one = client.settings();
    one.urls = {url};
    return ApiClient(one, false, [](const std::string&) {});
}

void wait_healthy(const ApiClient& client, std::chrono::seconds limit, const std::string& after) {
    const auto deadline = Clock::now() + limit;
    std::string last;
    for (;;) {
        try {
            api::Json doc;
            const api::Health health = fetch_health(client, doc);
            if (health.healthy()) return;
            last = health.error;
            for (const auto& m : health.members)
                if (!m.healthy) last = m.name + ": " + m.error;
        } catch (const Error& e) {
            last = e.what();
        }
        if (Clock::now() >= deadline)
            throw Error(Code::StoreUnavailable, "the cluster was not healthy within " + std::to_string(limit.count()) +
                                                    " s after restarting " + after + " (last: " + last +
                                                    "); the rollout stopped there");
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
}

// The ports whose served certificate is not the one on disk, "peer (serves 123, disk has 456)".
std::vector<std::string> stale_ports(const api::Json& answer) {
    std::vector<std::string> out;
    for (const auto& s : answer.value("Serving", api::Json::array()))
        if (!s.value("Match", false))
            out.push_back(s.value("Port", std::string()) + " (serves " + s.value("Served", std::string()) +
                          ", disk has " + s.value("OnDisk", std::string()) + ")");
    return out;
}

std::string joined(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
    return out;
}

api::Json restart_one(const ApiClient& client, const std::string& node, const std::string& url,
                      const RolloutOptions& options) {
    if (options.progress) options.progress(node + ": restarting etcd (" + url + ")");
    const Response r = client_for(client, url).send(Method::Post, std::string(api::kEtcdRestartPath));
    if (r.status != 200) throw api_error(r);
    const api::Json answer = api::parse_json(r.body, url);
    const std::string moved = answer.value("LeaderMovedTo", std::string());
    if (options.progress)
        options.progress(node + ": etcd pid " + std::to_string(answer.value("OldPid", 0)) + " -> " +
                         std::to_string(answer.value("NewPid", 0)) + ", serving and caught up in " +
                         std::to_string(static_cast<int>(answer.value("Seconds", 0.0) * 1000)) + " ms" +
                         (moved.empty() ? "" : ", leadership moved to " + moved));
    return answer;
}

}  // namespace

int cluster_rollout(const ApiClient& client, const RolloutOptions& options, Format format, std::ostream& out) {
    api::Json list_doc;
    const auto members =
        members_or_throw(client.send(Method::Get, std::string(api::kMembersPath), accept_read), list_doc);
    wait_healthy(client, options.healthy_wait, "nothing yet");
    api::Json nodes = api::Json::array();
    std::vector<std::string> stale;
    for (const auto& probe : cert_probes(members, client.settings().urls)) {
        if (probe.port != "api") continue;
        if (probe.url.empty()) throw Error(Code::Usage, probe.node + ": " + probe.error);
        api::Json answer = restart_one(client, probe.node, probe.url, options);
        for (const auto& port : stale_ports(answer)) stale.push_back(probe.node + " " + port);
        nodes.push_back(std::move(answer));
        wait_healthy(client, options.healthy_wait, probe.node);
    }
    if (format != Format::Table) {
        print(out, render_document(api::Json{{"Nodes", nodes}}, format));
    } else {
        std::vector<std::vector<std::string>> rows;
        for (const auto& n : nodes)
            rows.push_back({n.value("Node", std::string()), std::to_string(n.value("OldPid", 0)),
                            std::to_string(n.value("NewPid", 0)), n.value("LeaderMovedTo", std::string()),
                            stale_ports(n).empty() ? "yes" : "NO: " + joined(stale_ports(n))});
        print(out,
              render_table({"Node", "Old etcd PID", "New etcd PID", "Leadership moved to", "Serves its files"}, rows));
    }
    if (!stale.empty())
        throw Error(Code::RolloutIncomplete,
                    "after the rollout these ports still serve another certificate than the one on disk: " +
                        joined(stale) + " (is the new file in place on that node?)");
    return 0;
}

}  // namespace trellis::ctl
