// Rendering a cluster spec into each node's files: backend.yml always, and for
// an external store the etcd command line and systemd units. Pure: returns the
// files' contents; the caller writes them (as one FileSet).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "cluster/backend_config.hpp"
#include "cluster/spec.hpp"

namespace trellis::cluster {

// The certificate files in one node's folder (from the certificate table, cert_table.hpp); empty when the
// layout needs none.
struct NodeFiles {
    std::string ca_cert;                  // client CA: verifies clients and etcd's server cert ("ca.pem")
    std::string peer_ca_cert;             // peer CA ("peer-ca.pem"; "ca.pem" when the CA is shared)
    std::string cert, key;                // server cert of etcd's client port ("<node>.pem")
    std::string peer_cert, peer_key;      // peer cert ("<node>-peer.pem"; the server cert when the CA is shared)
    std::string api_cert, api_key;        // the backend API's server cert ("<node>-api.pem")
    std::string client_cert, client_key;  // the backend's client cert for an external store ("<node>-client.pem")
    std::string crl, peer_crl;            // the CRLs of those CAs ("ca-crl.pem", "peer-ca-crl.pem")
};
NodeFiles node_files(const Spec& spec, const NodeSpec& node);

struct RenderOptions {
    // Where the node's files live on the node: "" (default) writes paths relative to backend.yml
    // itself (BackendConfig resolves them against its directory); "/etc/trellis" writes absolute paths.
    std::string paths;
    // render --compose: also DIR/docker-compose.yml, the guide's docker layout (render_compose()).
    bool compose = false;
    std::string compose_image = "trellis:latest";
};

struct RenderedFile {
    std::filesystem::path path;  // relative to the output directory: "backend-1/backend.yml"
    std::string content;
    mode_t mode;
    bool operator==(const RenderedFile&) const = default;
};

// DIR/docker-compose.yml: a service per node (its folder mounted read-only at the paths the files name,
// its state in a volume, its spec address on one docker network) and a one-shot service per agent with
// its client bundle. Code::InputInvalidValue naming the node when the layout cannot be a docker network:
// an external store, an address that is not IPv4, a loopback address, or nodes outside one /24.
RenderedFile render_compose(const Spec& spec, const RenderOptions& options);

// The members `node` lists in etcd-initial-cluster: the bootstrap members (join: new) and, for a node that
// joins later, the joined nodes up to and including itself -- what etcd's member add answers. So a
// node added later changes no other node's file.
std::vector<const NodeSpec*> initial_members(const NodeSpec& node, const std::vector<NodeSpec>& members);

// backend.yml's settings for `node`, in file order: exactly what the rendered file holds.
// `members` is the initial cluster (the spec's nodes, plus the new node for add-node).
std::vector<std::pair<std::string, std::vector<std::string>>> node_settings(const Spec& spec, const NodeSpec& node,
                                                                            const std::vector<NodeSpec>& members,
                                                                            const RenderOptions& options);
// The etcd member's own settings (the etcd-* keys) as a BackendConfig, for an external etcd's command line.
BackendConfig member_config(const Spec& spec, const NodeSpec& node, const std::vector<NodeSpec>& members,
                            const RenderOptions& options);

// Every file of one node (backend.yml, and for an external store etcd.sh, etcd.service;
// trellis-backend.service always).
std::vector<RenderedFile> render_node(const Spec& spec, const NodeSpec& node, const std::vector<NodeSpec>& members,
                                      const RenderOptions& options);
// Every node's files.
std::vector<RenderedFile> render_cluster(const Spec& spec, const RenderOptions& options);

// A value as a double-quoted YAML scalar, as the guide writes them.
std::string yaml_quote(std::string_view value);

}  // namespace trellis::cluster
