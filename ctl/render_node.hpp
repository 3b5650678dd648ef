// `member-add --render SPEC --out DIR`: writes the new node's certificates and
// backend.yml with cluster-config's add-node before the member is added, and
// can take them back if the cluster then refuses the member.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace trellis::ctl {

struct RenderedNode {
    std::filesystem::path dir;                 // DIR/<name>
    std::vector<std::filesystem::path> files;  // what is in it now
    bool created = false;                      // dir did not exist before we rendered
    // Removes the node's folder if this render created it (nothing the user had is touched).
    void undo() const;
};

// Runs `cluster-config add-node SPEC --name NAME --address HOST --out DIR`, HOST taken from the first peer URL.
// cluster-config is looked for next to `self`, then in the build tree's cluster-config/ beside it, then on PATH.
RenderedNode render_node(const std::filesystem::path& spec, const std::filesystem::path& out, const std::string& name,
                         const std::string& peer_url, const std::filesystem::path& self);

// Where cluster-config was found, or empty.
std::filesystem::path find_cluster_config(const std::filesystem::path& self);

}  // namespace trellis::ctl
