#include "cluster/cert_table.hpp"

#include <algorithm>
#include <array>
#include <set>

#include "cluster/rotation.hpp"
#include "core/error.hpp"
#include "core/host.hpp"

namespace fs = std::filesystem;

namespace trellis::cluster {
namespace {

constexpr std::array<std::string_view, 2> kCaUsages{"cert sign", "crl sign"};
// etcd's client port and its peers dial out with the certificate they serve with (the gRPC gateway
// dials back to its own client port; members connect to each other), so those need both EKUs.
constexpr std::array<std::string_view, 4> kServeAndDial{"signing", "key encipherment", "server auth", "client auth"};
// The API only serves: its certificate cannot be presented to etcd or another member.
constexpr std::array<std::string_view, 3> kServeOnly{"signing", "key encipherment", "server auth"};
constexpr std::array<std::string_view, 3> kDialOnly{"signing", "key encipherment", "client auth"};

bool client_tls(const Spec& s) { return s.security->client_tls; }
// With ca: shared the guide's single CA also signs the peers, and a node's server cert is its peer cert.
bool client_ca(const Spec& s) { return s.security->client_tls || (s.security->peer_tls && s.shared_ca); }
bool peer_ca(const Spec& s) { return s.security->peer_tls && !s.shared_ca; }
bool node_client(const Spec& s) {
    return s.store == StoreKind::External && s.security->client_tls && s.security->client_cert_auth;
}

constexpr std::array<CertKindInfo, 8> kKinds{{
    {CertKind::ClientCa, "client-ca", std::nullopt, kCaUsages, SanRule::None, CertFolder::Ca, "ca", "",
     "signs the client port's, the API's and every client's certificate; trusted by etcd, the API and clients",
     client_ca, std::nullopt},
    {CertKind::PeerCa, "peer-ca", std::nullopt, kCaUsages, SanRule::None, CertFolder::Ca, "peer-ca", " (peers)",
     "signs peer certificates only, so a client certificate is refused on the peer port", peer_ca, std::nullopt},
    {CertKind::NodeServer, "node-server", CertKind::ClientCa, kServeAndDial, SanRule::NodeHosts, CertFolder::Node, "",
     "", "etcd's client port (etcd-cert-file); with ca: shared also its peer port", client_ca, Role::Node},
    {CertKind::NodePeer, "node-peer", CertKind::PeerCa, kServeAndDial, SanRule::NodeHosts, CertFolder::Node, "-peer",
     "", "etcd's peer port, both ways (etcd-peer-cert-file)", peer_ca, Role::Node},
    {CertKind::ApiServer, "api-server", CertKind::ClientCa, kServeOnly, SanRule::NodeHosts, CertFolder::Node, "-api",
     "", "trellis-backend's HTTPS API (cert-file)", client_tls, Role::Node},
    {CertKind::NodeClient, "node-client", CertKind::ClientCa, kDialOnly, SanRule::None, CertFolder::Node, "-client", "",
     "trellis-backend dialing an external etcd (etcd-client-cert-file)", node_client, Role::Node},
    {CertKind::Admin, "client", CertKind::ClientCa, kDialOnly, SanRule::None, CertFolder::Client, "", "",
     "an operator or tool calling etcd and the API (trellisctl --cert-file)", client_tls, std::nullopt},
    {CertKind::Agent, "agent", CertKind::ClientCa, kDialOnly, SanRule::None, CertFolder::Client, "", "",
     "one of a counted set of agents (clients: {name: N, count: K})", client_tls, std::nullopt},
}};

fs::path folder_of(const CertKindInfo& k, const std::string& owner) {
    switch (k.folder) {
        case CertFolder::Ca:
            return "ca";
        case CertFolder::Node:
            return owner;
        case CertFolder::Client:
            return fs::path("clients") / owner;
    }
    return {};
}

std::string stem_of(const CertKindInfo& k, const std::string& owner) {
    return (k.is_ca() ? std::string() : owner) + std::string(k.suffix);
}

fs::path issuer_path(const CertKindInfo& k) {
    if (k.is_ca()) return {};
    const CertKindInfo& ca = cert_kind(*k.issuer);
    return fs::path("ca") / (std::string(ca.suffix) + ".pem");
}

CertEntry entry_of(const CertKindInfo& k, const std::string& owner) {
    const fs::path dir = folder_of(k, owner);
    const std::string stem = stem_of(k, owner);
    return CertEntry{&k, owner, owner, dir / (stem + ".pem"), dir / (stem + "-key.pem"), issuer_path(k), {}, k.role};
}

// A node's certificates, or a client's (`client` set: its kind and role come from it).
void add_owner_certs(const Spec& spec, CertFolder folder, const std::string& owner, const ClientSpec* client,
                     const std::vector<std::string>& hosts, std::vector<CertEntry>& out) {
    for (const auto& k : kKinds) {
        if (k.folder != folder || !k.wanted(spec)) continue;
        if (client && (k.kind == CertKind::Agent) != client->agent) continue;
        CertEntry e = entry_of(k, owner);
        if (k.sans == SanRule::NodeHosts) e.hosts = hosts;
        if (client) e.role = client->role;
        out.push_back(std::move(e));
    }
}

}  // namespace

bool CertKindInfo::server_auth() const {
    return std::find(usages.begin(), usages.end(), "server auth") != usages.end();
}

std::span<const CertKindInfo> cert_kinds() { return kKinds; }

const CertKindInfo& cert_kind(CertKind kind) {
    for (const auto& k : kKinds)
        if (k.kind == kind) return k;
    throw Error(Code::Internal, "certificate kind missing from the table");
}

std::vector<std::string> kind_usages(const CertKindInfo& kind, pki::KeyAlgorithm algo) {
    std::vector<std::string> out;
    for (const auto u : kind.usages)
        if (u != "key encipherment" || algo == pki::KeyAlgorithm::Rsa) out.emplace_back(u);  // RSA key transport
    return out;
}

std::string cert_name(const CertEntry& entry) { return entry.cert.stem().string(); }

const CertEntry& leaf_named(const std::vector<CertEntry>& entries, std::string_view name, std::string_view asked,
                            std::string_view ca_why) {
    const auto it =
        std::find_if(entries.begin(), entries.end(), [&](const CertEntry& e) { return cert_name(e) == name; });
    if (it != entries.end() && !it->kind->is_ca()) return *it;
    std::string leaves;
    for (const auto& e : entries)
        if (!e.kind->is_ca()) leaves += (leaves.empty() ? "" : ", ") + cert_name(e);
    const std::string why = it != entries.end()
                                ? std::string(ca_why)
                                : "no leaf certificate of that name in the spec (the leaves: " + leaves + ")";
    throw Error(Code::CertUnknownName, std::string(asked) + ": " + why);
}

fs::path crl_path(const fs::path& ca_cert) { return ca_cert.parent_path() / (ca_cert.stem().string() + "-crl.pem"); }

std::vector<CertEntry> spec_certificates(const Spec& spec, std::span<const NodeSpec> nodes, bool with_clients) {
    std::vector<CertEntry> out;
    for (const auto& k : kKinds) {
        if (!k.is_ca() || !k.wanted(spec)) continue;
        CertEntry e = entry_of(k, "");
        e.cn = spec.ca_subject.cn + std::string(k.cn_suffix);
        out.push_back(std::move(e));
    }
    for (const auto& n : nodes) add_owner_certs(spec, CertFolder::Node, n.name, nullptr, node_hosts(n), out);
    if (with_clients)
        for (const auto& c : spec.clients) add_owner_certs(spec, CertFolder::Client, c.name, &c, {}, out);
    return out;
}

std::vector<CertEntry> spec_certificates(const Spec& spec) { return spec_certificates(spec, spec.nodes, true); }

std::vector<CaCopy> ca_copies(const Spec& spec, std::span<const NodeSpec> nodes, bool with_clients) {
    std::vector<CaCopy> out;
    std::set<fs::path> seen;
    for (const auto& e : spec_certificates(spec, nodes, with_clients)) {
        if (e.kind->is_ca()) continue;
        const fs::path path = e.cert.parent_path() / e.issuer_cert.filename();
        if (seen.insert(path).second) out.push_back({path, *e.kind->issuer});
    }
    return out;
}

std::vector<CertEntry> find_certificates(const fs::path& dir) {
    std::vector<CertEntry> out;
    std::error_code ec;
    auto add_if_present = [&](const CertKindInfo& k, const std::string& owner) {
        CertEntry e = entry_of(k, owner);
        if (fs::exists(dir / e.cert, ec)) out.push_back(std::move(e));
    };
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        if (!entry.is_directory(ec)) continue;
        const std::string name = entry.path().filename().string();
        for (const auto& k : kKinds) {
            if (k.folder == CertFolder::Ca && name == "ca") {
                add_if_present(k, "");
                // A rotation in progress (rotate-ca trust to finish): the new CA beside the old one.
                const CertEntry next = next_ca_entry(entry_of(k, ""));
                if (fs::exists(dir / next.cert, ec)) out.push_back(next);
            }
            if (k.folder == CertFolder::Node && name != "ca" && name != "clients") add_if_present(k, name);
        }
        if (name != "clients") continue;
        for (const auto& client : fs::directory_iterator(entry.path(), ec))
            if (client.is_directory(ec)) add_if_present(cert_kind(CertKind::Admin), client.path().filename().string());
    }
    std::sort(out.begin(), out.end(), [](const CertEntry& a, const CertEntry& b) { return a.cert < b.cert; });
    return out;
}

pki::Name leaf_name(const Spec& spec, const CertEntry& entry) {
    pki::Name n;
    if (entry.role) n.O = std::string(role_name(*entry.role));
    n.OU = spec.ca_subject.ou;
    return n;
}

std::vector<std::string> node_hosts(const NodeSpec& node) {
    std::vector<std::string> hosts{node.address};
    for (const auto& n : node.names) hosts.push_back(n);
    hosts.push_back(node.name);
    hosts.push_back("127.0.0.1");
    hosts.push_back("::1");
    // Fold duplicates (an address of 127.0.0.1, a name listed twice) so the SAN set is stable.
    std::vector<std::string> out;
    std::set<std::string> seen;
    for (const auto& h : hosts) {
        const std::string key = canonical_ip(h).value_or(h);
        if (seen.insert(key).second) out.push_back(h);
    }
    return out;
}

}  // namespace trellis::cluster
