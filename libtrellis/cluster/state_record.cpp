#include "cluster/state_record.hpp"

#include <nlohmann/json.hpp>

namespace trellis::cluster {

std::filesystem::path cluster_record_path(const BackendConfig& config) {
    return std::filesystem::path(config.get(Key::StateDir)) / "trellis-cluster.json";
}

std::string cluster_record(const BackendConfig& config) {
    nlohmann::json record = nlohmann::json::object();
    for (const Key key : kBootstrapKeys) record[std::string(key_name(key))] = config.get(key);
    return record.dump(2) + "\n";
}

}  // namespace trellis::cluster
