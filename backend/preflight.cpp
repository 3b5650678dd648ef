#include "preflight.hpp"

#include <nlohmann/json.hpp>

#include "cluster/lint.hpp"
#include "core/files.hpp"

namespace fs = std::filesystem;

namespace trellis::backend {

using cluster::kBootstrapKeys;
// Of those, the ones that say whose data it is. etcd-initial-cluster only says how the cluster began:
// members added or removed since (member-add, a node with join: existing) change it legitimately, and
// the data is still this member's -- moving it away would throw a healthy member's data out.
constexpr cluster::Key kIdentityKeys[] = {cluster::Key::EtcdName, cluster::Key::EtcdInitialClusterToken};

std::string state_dir_warning(const cluster::BackendConfig& config) {
    const fs::path data = fs::path(config.get(cluster::Key::StateDir)) / "etcd" / "member";
    std::error_code ec;
    if (!fs::exists(data, ec)) return {};
    const fs::path record_path = cluster_record_path(config);
    nlohmann::json recorded;
    try {
        recorded = nlohmann::json::parse(read_file(record_path));
    } catch (const std::exception&) {
        return "state-dir " + config.get(cluster::Key::StateDir) +
               " already holds etcd data of unknown origin (no readable " + record_path.string() +
               "): etcd will use it and ignore etcd-initial-cluster; move it away to bootstrap anew";
    }
    const nlohmann::json now = nlohmann::json::parse(cluster_record(config));
    for (const cluster::Key id : kIdentityKeys) {
        // Another token is another cluster: refused (check_state_dir), not warned about.
        if (id == cluster::Key::EtcdInitialClusterToken) continue;
        const std::string key(cluster::key_name(id));
        if (recorded.value(key, std::string()) != now[key].get<std::string>())
            return "state-dir " + config.get(cluster::Key::StateDir) +
                   " already holds etcd data of a different cluster (" + key + " was \"" +
                   recorded.value(key, std::string()) + "\", now \"" + now[key].get<std::string>() +
                   "\"): etcd will keep the old cluster and ignore the new settings; move the data away to start anew";
    }
    return {};
}

PreflightResult preflight(const cluster::BackendConfig& config) {
    PreflightResult result;
    for (const auto& finding : cluster::lint_node(config))
        (finding.kind->severity == cluster::Severity::Error ? result.errors : result.warnings)
            .push_back(finding.to_string());
    if (!config.get_bool(cluster::Key::NoEmbedEtcd))
        if (auto w = state_dir_warning(config); !w.empty()) result.warnings.push_back(std::move(w));
    return result;
}

}  // namespace trellis::backend
