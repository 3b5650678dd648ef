// The cluster spec: the one YAML file an operator writes to describe a whole
// cluster (nodes, ports, security layout, PKI). Parsing is strict and reports
// every problem at once, each naming file:line and the field (docs/cluster-spec.md).
#pragma once

#include <sys/types.h>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/roles.hpp"
#include "core/error.hpp"
#include "pki/key.hpp"
#include "pki/policy.hpp"

namespace trellis::cluster {

// One of the guide's security layouts: what is TLS and what demands client certs.
struct SecurityLayout {
    std::string_view name;
    bool client_tls;        // https on the client port (and the backend API)
    bool client_cert_auth;  // clients (and API callers) must present a cert of the client CA
    bool peer_tls;          // https between members
    bool peer_cert_auth;    // members must present a cert of the peer CA
    std::string_view summary;
};
std::span<const SecurityLayout> security_layouts();
const SecurityLayout* find_security_layout(std::string_view name);

enum class StoreKind { Embedded, External };

struct Ports {
    int client = 2379;
    int peer = 2380;
    int api = 8080;
};

// owner: {user: U, group: G, mode: user|group} -- who runs a node, and so who may read its folder.
// mode user (the default): keys 0600 and every other file owned U:G; mode group: keys 0640 and every file
// root:G (the service runs as U with group G). G defaults to U's primary group.
struct OwnerSpec {
    std::string user, group;  // as the spec names them; group may be empty
    bool group_mode = false;
    std::string field;  // "owner" or "nodes[1].owner", with line: where an unknown name is reported
    int line = 0;
    // Filled by resolve_owners() (owner.hpp) from this machine's users and groups; -1 until then.
    uid_t uid = static_cast<uid_t>(-1);
    gid_t gid = static_cast<gid_t>(-1);
    bool resolved() const { return gid != static_cast<gid_t>(-1); }
};

struct NodeSpec {
    std::string name;
    std::string address;             // IP literal or host name the others reach it on
    std::vector<std::string> names;  // extra SANs (DNS names or IPs)
    Ports ports;
    int line = 0;
    // join: existing -- added to a running cluster (add-node, member-add --render) rather than one of the
    // members that bootstrapped it: etcd-initial-cluster-state existing, and an initial cluster of the
    // bootstrap members plus the joined nodes up to this one.
    bool join_existing = false;
    std::optional<OwnerSpec> owner{};  // its own owner:, else the spec's
};

struct ClientSpec {
    std::string name;  // becomes the certificate's CN and DIR/clients/<name>/
    int line = 0;
    bool agent = false;  // one of a counted set ({name: N, count: K})
    // Its certificate's O and what it may do on the API (roles.hpp). Default: admin for a named client
    // (every client could do everything before roles, and the guide's admin stays admin), agent for a
    // counted set.
    Role role = Role::Admin;
};

struct Subject {
    std::string cn = "Trellis CA";
    std::string o, ou, c, st, l;
};

// pki.renew-before when a spec leaves it out; also check-expiration's window when DIR records none.
inline constexpr pki::Duration kDefaultRenewBefore{std::chrono::hours(720)};

struct Spec {
    std::string source;  // the spec file, for messages
    std::string name;
    std::string token;
    StoreKind store = StoreKind::Embedded;
    const SecurityLayout* security = nullptr;
    bool shared_ca = false;  // ca: shared (the guide's single CA) vs separate (a peer CA of its own)
    Ports ports;
    std::string state_dir = "/var/lib/trellis";
    pki::KeyRequest ca_key{pki::KeyAlgorithm::Ecdsa, 256};
    pki::KeyRequest leaf_key{pki::KeyAlgorithm::Ecdsa, 256};
    pki::Duration ca_validity{std::chrono::hours(87600)};
    pki::Duration leaf_validity{std::chrono::hours(8760)};
    pki::Duration renew_before{kDefaultRenewBefore};  // leaves expiring sooner are reissued
    Subject ca_subject;
    std::vector<NodeSpec> nodes;
    std::vector<ClientSpec> clients;
    std::optional<OwnerSpec> owner;  // owner: at the top, every node's unless it names its own

    // The owner of a node's folder: the node's own, else the spec's (nullptr: files stay the process's).
    const OwnerSpec* owner_of(const NodeSpec& node) const;
    const NodeSpec* find_node(std::string_view name) const;
    // Does any part use TLS (and so need certificates)?
    bool needs_client_ca() const { return security->client_tls; }
    bool needs_peer_ca() const { return security->peer_tls && !shared_ca; }
};

struct SpecResult {
    std::optional<Spec> spec;         // set when there are no errors
    std::vector<std::string> errors;  // "spec.yml:12: nodes[1].address: why"
    Warnings warnings;                // same shape; even node count, ...
};

// Parses and checks a spec, collecting every problem. Pure: no I/O.
SpecResult parse_spec(std::string_view text, std::string_view source);
// parse_spec, but throws Code::SpecInvalid with all errors (one per line) if there are any.
Spec load_spec(std::string_view text, std::string_view source, Warnings& warnings);

// Checks one more node against a spec (add-node): same rules as the spec's own nodes.
std::vector<std::string> check_new_node(const Spec& spec, const NodeSpec& node);

// The node as one line of the spec's nodes: list ("  - {name: n4, address: 10.0.0.4, join: existing}"),
// with names and the ports that differ from the spec's.
std::string spec_node_line(const Spec& spec, const NodeSpec& node);

// "https" or "http" for the client / peer URLs of a spec.
std::string_view client_scheme(const Spec& spec);
std::string_view peer_scheme(const Spec& spec);

}  // namespace trellis::cluster
