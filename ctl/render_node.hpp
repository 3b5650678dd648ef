// `member-add --render SPEC --out DIR`: issues the new node's certificates and
// renders its backend.yml (cluster-config add-node, through the library) before
// the member is added, and can take them back if the cluster then refuses it.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace trellis::ctl {

struct RenderedNode {
    std::filesystem::path dir;                   // DIR/<name>
    std::vector<std::filesystem::path> files;    // every file written or updated, under DIR
    std::vector<std::filesystem::path> created;  // those that did not exist before
    std::string spec_line;                       // the node's line for the spec's nodes: (join: existing)
    // Removes what this render created (nothing the user had is touched).
    void undo() const;
};

// As `cluster-config add-node SPEC --name NAME --address HOST --out DIR`, with HOST and the peer port taken
// from the first peer URL, whose scheme must be the spec's peer scheme (Code::Usage otherwise).
// `replacing` (member-replace): NAME is a node of the spec, rendered anew at the peer URL's host, with
// the other nodes as its cluster; files of the dead node there are updated.
RenderedNode render_node(const std::filesystem::path& spec, const std::filesystem::path& out, const std::string& name,
                         const std::string& peer_url, bool replacing = false);

}  // namespace trellis::ctl
