// The certificate tree of a cluster as ONE table (modelled on kubeadm's certlist.go):
// every kind of certificate Trellis issues is declared once with its issuer, usages,
// SAN rule, file names, folder and who uses it. Provisioning, rendering, add-node and
// lint's file checks read it; so do expiry checks, renewal and CA rotation.
//
//   cert_kinds()                 the table itself
//   spec_certificates(spec, ..)  every certificate a spec implies, with paths under DIR
//   find_certificates(DIR)       every certificate a provisioned DIR holds, without the spec
//
// Layout under DIR: ca/ (the CAs, 0700, never copied to a node), <node>/ (what that node
// needs, with copies of the CA certificates it trusts), clients/<name>/.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/roles.hpp"
#include "cluster/spec.hpp"
#include "pki/request.hpp"

namespace trellis::cluster {

enum class CertKind { ClientCa, PeerCa, NodeServer, NodePeer, ApiServer, NodeClient, Admin, Agent };
enum class CertFolder { Ca, Node, Client };  // DIR/ca/, DIR/<node>/, DIR/clients/<name>/
enum class SanRule { None, NodeHosts };      // NodeHosts: node_hosts() of the owning node

struct CertKindInfo {
    CertKind kind;
    std::string_view name;                     // stable id for output and docs: "node-server"
    std::optional<CertKind> issuer;            // nullopt: a self-signed CA
    std::span<const std::string_view> usages;  // cfssl usage names (pki's usage_table); "key encipherment"
                                               // is dropped for non-RSA keys, where it means nothing
    SanRule sans;
    CertFolder folder;
    // File names: DIR/<folder>/<stem>.pem and <stem>-key.pem, where stem is the owner's name followed by
    // `suffix` ("backend-1" + "-peer"); a CA has no owner and its stem is the suffix ("ca", "peer-ca").
    std::string_view suffix;
    std::string_view cn_suffix;  // a CA's CN is the spec's CA CN plus this; a leaf's CN is its owner's name
    std::string_view used_by;    // who presents or trusts it, for humans
    // Does a spec of this layout need the kind at all? (client TLS, peer TLS, a CA of the peers' own, ...)
    bool (*wanted)(const Spec&);
    // The role its subject's O carries (roles.hpp): node for a node's certificates; nullopt for a CA
    // and for client certificates, whose role the spec's client gives.
    std::optional<Role> role;
    bool is_ca() const { return !issuer; }
    bool server_auth() const;  // lists "server auth"
};

inline constexpr mode_t kCaFolderMode = 0700;  // DIR/ca holds the CA keys: owner only

std::span<const CertKindInfo> cert_kinds();
const CertKindInfo& cert_kind(CertKind kind);
// The usages for a leaf key of `algo` (without "key encipherment" unless RSA).
std::vector<std::string> kind_usages(const CertKindInfo& kind, pki::KeyAlgorithm algo);

// One certificate a spec implies (or a DIR holds).
struct CertEntry {
    const CertKindInfo* kind;
    std::string owner;                  // node or client name; "" for a CA
    std::string cn;                     // its common name
    std::filesystem::path cert, key;    // relative to DIR
    std::filesystem::path issuer_cert;  // relative to DIR ("ca/ca.pem"); empty for a CA
    std::vector<std::string> hosts;     // SANs (empty for client certificates and CAs)
    std::optional<Role> role;           // its subject's O; nullopt for a CA (and for find_certificates' clients)
};

// A certificate's name for humans and for `renew --name`: its file name without ".pem" ("backend-1-peer",
// "admin", "ca"), unique within a DIR.
std::string cert_name(const CertEntry& entry);
// The leaf of `entries` named `name` (cert_name()), as renew and revoke ask for one. Otherwise
// Code::CertUnknownName: "ASKED: " and why, `ca_why` for a CA, else the names of the leaves there are.
const CertEntry& leaf_named(const std::vector<CertEntry>& entries, std::string_view name, std::string_view asked,
                            std::string_view ca_why);

// The subject of a leaf besides its CN -- the one place that decides it: O is the entry's role and nothing
// else (an O of the spec could name a role by accident), OU the spec's CA subject's ou.
pki::Name leaf_name(const Spec& spec, const CertEntry& entry);

// A CA certificate copied into a folder that trusts it (DIR/<node>/ca.pem, DIR/clients/admin/ca.pem).
struct CaCopy {
    std::filesystem::path path;  // relative to DIR
    CertKind ca;
};

// The CRL of the CA whose certificate is `ca_cert`, next to it: "ca/ca.pem" -> "ca/ca-crl.pem",
// "backend-1/peer-ca.pem" -> "backend-1/peer-ca-crl.pem" (PEM, what etcd's --client-crl-file reads).
std::filesystem::path crl_path(const std::filesystem::path& ca_cert);

// The certificates of the spec's CAs, of `nodes` (the spec's own by default; add-node passes the new one)
// and, when `with_clients`, of every client; CAs first, then by node and client in spec order.
std::vector<CertEntry> spec_certificates(const Spec& spec, std::span<const NodeSpec> nodes, bool with_clients);
std::vector<CertEntry> spec_certificates(const Spec& spec);
// The CA copies those folders hold.
std::vector<CaCopy> ca_copies(const Spec& spec, std::span<const NodeSpec> nodes, bool with_clients);

// Every certificate under a provisioned DIR, recognised by the table's folders and file names (no spec
// needed). Clients cannot be told from agents by their files and are reported as Admin; hosts, cn and a
// client's role are left empty (read them from the certificate). Sorted by path; a missing DIR lists nothing.
std::vector<CertEntry> find_certificates(const std::filesystem::path& dir);

// The SANs a node's certificates carry: its address, extra names, its name, 127.0.0.1 and ::1
// (etcd checks a peer's cert against the connection's source address, 127.0.0.1 on loopback).
std::vector<std::string> node_hosts(const NodeSpec& node);

}  // namespace trellis::cluster
