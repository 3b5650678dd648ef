#include "cluster/spec.hpp"

#include "cluster/render.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <functional>
#include <map>
#include <set>
#include <tuple>

#include "core/host.hpp"
#include "core/strict_json.hpp"
#include "pki/issue.hpp"

namespace trellis::cluster {
namespace {

constexpr std::array<SecurityLayout, 5> kLayouts{{
    {"full", true, true, true, true, "https everywhere, client certs required on the client and peer ports (default)"},
    {"insecure", false, false, false, false, "plain http everywhere, no certificates (the guide's first example)"},
    {"client-tls", true, false, false, false, "https on the client port, any client may connect; peers plain http"},
    {"client-cert-auth", true, true, false, false,
     "https on the client port with client certs required; peers plain http"},
    {"peer-mtls", false, false, true, true, "peers use https with client certs; the client port is plain http"},
}};

struct NamedValue {
    std::string_view name;
    int value;
};
constexpr std::array<NamedValue, 2> kStores{{{"embedded", 0}, {"external", 1}}};
constexpr std::array<NamedValue, 2> kCaModes{{{"separate", 0}, {"shared", 1}}};
constexpr std::array<NamedValue, 2> kJoinModes{{{"new", 0}, {"existing", 1}}};
constexpr std::array<NamedValue, 2> kOwnerModes{{{"user", 0}, {"group", 1}}};
constexpr std::array<NamedValue, 3> kAlgorithms{{
    {"rsa", static_cast<int>(pki::KeyAlgorithm::Rsa)},
    {"ecdsa", static_cast<int>(pki::KeyAlgorithm::Ecdsa)},
    {"ed25519", static_cast<int>(pki::KeyAlgorithm::Ed25519)},
}};
constexpr int kMaxClientCount = 100000;

template <size_t N>
std::string names_of(const std::array<NamedValue, N>& table) {
    std::string out;
    for (size_t i = 0; i < N; ++i) out += (i ? ", " : "") + std::string(table[i].name);
    return out;
}

// Collects every problem with its place instead of stopping at the first.
class Problems {
  public:
    explicit Problems(std::string source) : source_(std::move(source)) {}
    std::string at(const YAML::Node& node) const {
        const int line = node.Mark().line;
        return line >= 0 ? source_ + ":" + std::to_string(line + 1) : source_;
    }
    void error(const YAML::Node& node, const std::string& field, const std::string& why) {
        errors.push_back(at(node) + ": " + field + ": " + why);
    }
    void warn(const YAML::Node& node, const std::string& field, const std::string& why) {
        warnings.push_back(at(node) + ": " + field + ": " + why);
    }
    void error_at_line(int line, const std::string& field, const std::string& why) {
        errors.push_back(source_ + ":" + std::to_string(line) + ": " + field + ": " + why);
    }
    std::vector<std::string> errors;
    Warnings warnings;

  private:
    std::string source_;
};

std::string join_path(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : path + "." + std::string(key);
}

// A YAML mapping read strictly: every key taken must be known; finish() reports the rest.
class Map {
  public:
    Map(YAML::Node node, std::string path, Problems& problems)
        : node_(std::move(node)), path_(std::move(path)), p_(problems) {}
    bool ok() const { return node_.IsMap(); }
    YAML::Node take(std::string_view key) {
        known_.emplace_back(key);
        if (!node_.IsMap()) return YAML::Node();
        for (const auto& item : node_)
            if (item.first.IsScalar() && item.first.Scalar() == key) return item.second;
        return YAML::Node();
    }
    std::string field(std::string_view key) const { return join_path(path_, key); }
    const YAML::Node& node() const { return node_; }
    void finish() {
        if (!node_.IsMap()) return;
        std::set<std::string> seen;
        for (const auto& item : node_) {
            const std::string key = item.first.IsScalar() ? item.first.Scalar() : "?";
            if (!seen.insert(key).second) {
                p_.error(item.first, field(key), "set twice; keep one");
                continue;
            }
            if (std::find(known_.begin(), known_.end(), key) != known_.end()) continue;
            std::string why = "unknown key \"" + key + "\"";
            if (auto guess = closest_match(key, known_)) why += " (did you mean \"" + *guess + "\"?)";
            p_.error(item.first, field(key), why);
        }
    }

  private:
    YAML::Node node_;
    std::string path_;
    Problems& p_;
    std::vector<std::string> known_;
};

bool present(const YAML::Node& n) { return n.IsDefined() && !n.IsNull(); }

std::optional<std::string> scalar(const YAML::Node& n, const std::string& field, Problems& p) {
    if (!present(n)) return std::nullopt;
    if (!n.IsScalar()) {
        p.error(n, field, "expected a single value");
        return std::nullopt;
    }
    return n.Scalar();
}

std::optional<int> integer(const YAML::Node& n, const std::string& field, Problems& p, int lo, int hi) {
    auto s = scalar(n, field, p);
    if (!s) return std::nullopt;
    int v = 0;
    auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
    if (ec != std::errc() || end != s->data() + s->size() || v < lo || v > hi) {
        p.error(n, field,
                "expected a whole number from " + std::to_string(lo) + " to " + std::to_string(hi) + ", got \"" + *s +
                    "\"");
        return std::nullopt;
    }
    return v;
}

// A client's role: admin, reader or agent (roles.hpp); absent, admin for a named client and agent for a
// counted set. nullopt after reporting a bad one.
std::optional<Role> client_role(const YAML::Node& n, const std::string& field, bool counted, Problems& p) {
    if (!present(n)) return counted ? Role::Agent : Role::Admin;
    const auto s = scalar(n, field, p);
    if (!s) return std::nullopt;
    const auto role = find_role(*s);
    if (role && role_info(*role).for_clients) return role;
    p.error(n, field,
            "\"" + excerpt(*s) + "\" is not a client role: expected " + client_role_names() +
                (role ? " (node is for the nodes' own certificates, which provision issues)" : ""));
    return std::nullopt;
}

std::vector<std::string> strings(const YAML::Node& n, const std::string& field, Problems& p) {
    std::vector<std::string> out;
    if (!present(n)) return out;
    if (n.IsScalar()) return {n.Scalar()};
    if (!n.IsSequence()) {
        p.error(n, field, "expected a list of strings");
        return out;
    }
    for (size_t i = 0; i < n.size(); ++i) {
        if (auto s = scalar(n[i], field + "[" + std::to_string(i) + "]", p)) out.push_back(*s);
    }
    return out;
}

template <size_t N>
std::optional<int> choice(const YAML::Node& n, const std::string& field, Problems& p,
                          const std::array<NamedValue, N>& table) {
    auto s = scalar(n, field, p);
    if (!s) return std::nullopt;
    for (const auto& e : table)
        if (e.name == *s) return e.value;
    p.error(n, field, "\"" + *s + "\" is not one of " + names_of(table));
    return std::nullopt;
}

std::optional<pki::Duration> duration(const YAML::Node& n, const std::string& field, Problems& p) {
    auto s = scalar(n, field, p);
    if (!s) return std::nullopt;
    try {
        const pki::Duration d = pki::parse_duration(*s, field);
        if (d.count() <= 0) {
            p.error(n, field, "must be longer than zero");
            return std::nullopt;
        }
        return d;
    } catch (const Error&) {
        p.error(n, field, "\"" + *s + "\" is not a duration like 8760h or 90m");
        return std::nullopt;
    }
}

void read_key(const YAML::Node& n, const std::string& field, Problems& p, pki::KeyRequest& out) {
    if (!present(n)) return;
    Map m(n, field, p);
    if (!m.ok()) {
        p.error(n, field, "expected {algo: ecdsa|rsa|ed25519, size: N}");
        return;
    }
    pki::KeyRequest key = out;
    const YAML::Node algo = m.take("algo");
    if (auto a = choice(algo, m.field("algo"), p, kAlgorithms)) {
        key.algo = static_cast<pki::KeyAlgorithm>(*a);
        if (key.algo == pki::KeyAlgorithm::Rsa) key.size = 2048;
        if (key.algo == pki::KeyAlgorithm::Ecdsa) key.size = 256;
    }
    const YAML::Node size = m.take("size");
    if (auto s = integer(size, m.field("size"), p, 1, 16384)) key.size = *s;
    m.finish();
    try {
        pki::validate(key);
        out = key;
    } catch (const Error& e) {
        p.error(present(size) ? size : n, field, e.what());
    }
}

struct PortField {
    std::string_view key;
    int Ports::*member;
};
constexpr std::array<PortField, 3> kPortFields{
    {{"client", &Ports::client}, {"peer", &Ports::peer}, {"api", &Ports::api}}};

// A value for a YAML flow mapping: plain when that is safe, double-quoted otherwise (IPv6 has colons).
std::string yaml_scalar(const std::string& v) {
    const bool plain = !v.empty() && v.find_first_of(":,[]{}#&*!|>'\"%@` ") == std::string::npos;
    return plain ? v : yaml_quote(v);
}

void read_ports(const YAML::Node& n, const std::string& field, Problems& p, Ports& out) {
    if (!present(n)) return;
    Map m(n, field, p);
    if (!m.ok()) {
        p.error(n, field, "expected {client: N, peer: N, api: N}");
        return;
    }
    for (const auto& s : kPortFields)
        if (auto v = integer(m.take(s.key), m.field(s.key), p, 1, 65535)) out.*s.member = *v;
    m.finish();
    if (out.client == out.peer || out.client == out.api || out.peer == out.api)
        p.error(n, field, "client, peer and api ports must all differ");
}

bool valid_name(std::string_view name) {
    // Node and client names become directory and file names and etcd member names.
    if (name.empty() || name.size() > 63 || name.front() == '-' || name.front() == '.') return false;
    for (char c : name) {
        const unsigned char u = static_cast<unsigned char>(c);
        if (!std::isalnum(u) && c != '-' && c != '_' && c != '.') return false;
    }
    return name != "ca" && name != "clients";
}

constexpr std::string_view kNameRule = "names may use letters, digits, '-', '_' and '.', and may not be ca or clients";

// The rules every node obeys, for the spec's own nodes and for add-node.
void check_node(const NodeSpec& node, const std::string& field, Problems& p,
                const std::function<void(const std::string&, const std::string&)>& error) {
    (void)p;
    if (!valid_name(node.name))
        error(field + ".name", "\"" + node.name + "\" is not a valid node name: " + std::string(kNameRule));
    if (node.address.empty()) {
        error(field + ".address", "missing: the IP address or host name the other nodes reach this node on");
    } else if (is_wildcard(node.address)) {
        error(field + ".address", "\"" + node.address + "\" is a wildcard; give the address others connect to");
    } else if (!is_ip(node.address) && !is_hostname(node.address)) {
        error(field + ".address", "\"" + node.address + "\" is not a valid IP address or host name");
    }
    for (size_t i = 0; i < node.names.size(); ++i) {
        const std::string& n = node.names[i];
        if (!is_ip(n) && !is_hostname(n))
            error(field + ".names[" + std::to_string(i) + "]", "\"" + n + "\" is not a valid IP address or host name");
    }
}

// Endpoints (host:port) a node claims, for duplicate detection.
std::vector<std::string> endpoints(const NodeSpec& n) {
    const std::string host = canonical_ip(n.address).value_or(n.address);
    return {host + ":" + std::to_string(n.ports.client), host + ":" + std::to_string(n.ports.peer),
            host + ":" + std::to_string(n.ports.api)};
}

}  // namespace

std::span<const SecurityLayout> security_layouts() { return kLayouts; }

const SecurityLayout* find_security_layout(std::string_view name) {
    for (const auto& l : kLayouts)
        if (l.name == name) return &l;
    return nullptr;
}

const NodeSpec* Spec::find_node(std::string_view name) const {
    for (const auto& n : nodes)
        if (n.name == name) return &n;
    return nullptr;
}

const OwnerSpec* Spec::owner_of(const NodeSpec& node) const {
    if (node.owner) return &*node.owner;
    return owner ? &*owner : nullptr;
}

std::string spec_node_line(const Spec& spec, const NodeSpec& node) {
    std::string out = "  - {name: " + node.name + ", address: " + yaml_scalar(node.address);
    if (!node.names.empty()) {
        std::string names;
        for (const auto& n : node.names) names += (names.empty() ? "" : ", ") + yaml_scalar(n);
        out += ", names: [" + names + "]";
    }
    std::string ports;
    for (const auto& [key, member] : kPortFields)
        if (node.ports.*member != spec.ports.*member)
            ports += (ports.empty() ? "" : ", ") + std::string(key) + ": " + std::to_string(node.ports.*member);
    if (!ports.empty()) out += ", ports: {" + ports + "}";
    return out + (node.join_existing ? ", join: existing}" : "}");
}

std::string_view client_scheme(const Spec& spec) { return spec.security->client_tls ? "https" : "http"; }
std::string_view peer_scheme(const Spec& spec) { return spec.security->peer_tls ? "https" : "http"; }

namespace {

// cluster: {name, token}; the token defaults to trellis-NAME.
void read_cluster(Map& top, const YAML::Node& root, Problems& p, Spec& spec) {
    const YAML::Node cluster = top.take("cluster");
    if (!present(cluster)) {
        p.error(root, "cluster", "missing: give at least cluster: {name: NAME}");
    } else {
        Map m(cluster, "cluster", p);
        if (!m.ok()) {
            p.error(cluster, "cluster", "expected {name: NAME, token: TOKEN}");
        } else {
            const YAML::Node name = m.take("name");
            if (auto s = scalar(name, "cluster.name", p)) {
                spec.name = *s;
                if (!valid_name(spec.name))
                    p.error(name, "cluster.name", "\"" + *s + "\" is not valid: " + std::string(kNameRule));
            } else if (!present(name)) {
                p.error(cluster, "cluster.name", "missing");
            }
            const YAML::Node token = m.take("token");
            if (auto s = scalar(token, "cluster.token", p)) {
                spec.token = *s;
                if (s->empty())
                    p.error(token, "cluster.token", "must not be empty: it keeps two clusters from merging");
            }
            m.finish();
        }
    }
    if (spec.token.empty() && !spec.name.empty()) spec.token = "trellis-" + spec.name;
}

// store, security, ca, ports and state-dir: the cluster-wide settings.
void read_settings(Map& top, Problems& p, Spec& spec) {
    if (auto v = choice(top.take("store"), "store", p, kStores)) spec.store = static_cast<StoreKind>(*v);
    const YAML::Node security = top.take("security");
    if (auto s = scalar(security, "security", p)) {
        if (const SecurityLayout* l = find_security_layout(*s)) {
            spec.security = l;
        } else {
            std::string names;
            for (const auto& l2 : kLayouts) names += (names.empty() ? "" : ", ") + std::string(l2.name);
            p.error(security, "security", "\"" + *s + "\" is not one of " + names);
        }
    }
    if (auto v = choice(top.take("ca"), "ca", p, kCaModes)) spec.shared_ca = *v == 1;
    read_ports(top.take("ports"), "ports", p, spec.ports);
    const YAML::Node state = top.take("state-dir");
    if (auto s = scalar(state, "state-dir", p)) {
        if (s->empty() || (*s)[0] != '/')
            p.error(state, "state-dir", "must be an absolute path, got \"" + *s + "\"");
        else
            spec.state_dir = *s;
    }
}

// pki.ca.subject: the CA's distinguished name, each value checked as X.509 will take it.
void read_subject(const YAML::Node& subject, Problems& p, Subject& out) {
    Map s(subject, "pki.ca.subject", p);
    struct Field {
        std::string_view key, x509_type;
        std::string Subject::*member;
    };
    static constexpr std::array<Field, 6> kFields{{{"cn", "CN", &Subject::cn},
                                                   {"o", "O", &Subject::o},
                                                   {"ou", "OU", &Subject::ou},
                                                   {"c", "C", &Subject::c},
                                                   {"st", "ST", &Subject::st},
                                                   {"l", "L", &Subject::l}}};
    for (const auto& f : kFields) {
        const YAML::Node value = s.take(f.key);
        auto v = scalar(value, s.field(f.key), p);
        if (!v) continue;
        // Checked here so the error names the spec's line and field, not provisioning's internals.
        if (auto why = pki::subject_value_problem(f.x509_type, *v)) p.error(value, s.field(f.key), *why);
        out.*f.member = *v;
    }
    s.finish();
    if (out.cn.empty()) p.error(subject, "pki.ca.subject.cn", "must not be empty");
}

// pki: {ca: {key, validity, subject}, leaf: {key, validity}, renew-before}.
void read_pki(const YAML::Node& pki_node, Problems& p, Spec& spec) {
    Map m(pki_node, "pki", p);
    if (!m.ok()) p.error(pki_node, "pki", "expected {ca: {...}, leaf: {...}, renew-before: DURATION}");
    const YAML::Node ca = m.take("ca");
    if (present(ca)) {
        Map c(ca, "pki.ca", p);
        read_key(c.take("key"), "pki.ca.key", p, spec.ca_key);
        if (auto d = duration(c.take("validity"), "pki.ca.validity", p)) spec.ca_validity = *d;
        const YAML::Node subject = c.take("subject");
        if (present(subject)) read_subject(subject, p, spec.ca_subject);
        c.finish();
    }
    const YAML::Node leaf = m.take("leaf");
    if (present(leaf)) {
        Map l(leaf, "pki.leaf", p);
        read_key(l.take("key"), "pki.leaf.key", p, spec.leaf_key);
        if (auto d = duration(l.take("validity"), "pki.leaf.validity", p)) spec.leaf_validity = *d;
        l.finish();
    }
    const YAML::Node renew = m.take("renew-before");
    if (auto d = duration(renew, "pki.renew-before", p)) spec.renew_before = *d;
    m.finish();
    if (spec.leaf_validity > spec.ca_validity)
        p.warn(pki_node, "pki.leaf.validity",
               "longer than the CA's validity; leaves stop verifying when the CA expires");
    if (spec.renew_before >= spec.leaf_validity)
        p.error(present(renew) ? renew : pki_node, "pki.renew-before",
                "must be shorter than pki.leaf.validity, or every run would reissue every certificate");
}

// A user or group name as useradd takes it (no ':' or whitespace: it would break the unit and chown).
bool valid_account_name(std::string_view name) {
    if (name.empty() || name.size() > 32 || name.front() == '-') return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        const unsigned char u = static_cast<unsigned char>(c);
        return std::isalnum(u) || c == '-' || c == '_' || c == '.';
    });
}

// owner: {user: U, group: G, mode: user|group}; nullopt when absent or after reporting a problem.
std::optional<OwnerSpec> read_owner(const YAML::Node& n, const std::string& field, Problems& p) {
    if (!present(n)) return std::nullopt;
    Map m(n, field, p);
    if (!m.ok()) {
        p.error(n, field, "expected {user: U, group: G, mode: user|group}");
        return std::nullopt;
    }
    OwnerSpec o;
    o.field = field;
    o.line = n.Mark().line + 1;
    const size_t before = p.errors.size();
    const YAML::Node user = m.take("user"), group = m.take("group");
    if (auto s = scalar(user, field + ".user", p)) o.user = *s;
    if (auto s = scalar(group, field + ".group", p)) o.group = *s;
    if (auto v = choice(m.take("mode"), field + ".mode", p, kOwnerModes)) o.group_mode = *v == 1;
    m.finish();
    if (!present(user)) p.error(n, field + ".user", "missing: the user the node's service runs as");
    for (const auto& [value, node, key] : {std::tuple{o.user, user, ".user"}, std::tuple{o.group, group, ".group"}})
        if (present(node) && !valid_account_name(value))
            p.error(node, field + key,
                    "\"" + excerpt(value) + "\" is not a user or group name (letters, digits, '-', '_', '.')");
    if (p.errors.size() != before) return std::nullopt;
    return o;
}

// Names and endpoints already taken by earlier nodes: value -> the field that took it.
struct NodesSeen {
    std::map<std::string, std::string> names, endpoints;
};

// One entry of nodes:, checked alone and against the nodes before it.
void read_node(const YAML::Node& n, const std::string& field, Problems& p, Spec& spec, NodesSeen& seen) {
    Map m(n, field, p);
    if (!m.ok()) {
        p.error(n, field, "expected {name: N, address: A}");
        return;
    }
    NodeSpec node;
    node.line = n.Mark().line + 1;
    node.ports = spec.ports;
    const YAML::Node name = m.take("name");
    const YAML::Node address = m.take("address");
    if (auto s = scalar(name, field + ".name", p))
        node.name = *s;
    else if (!present(name))
        p.error(n, field + ".name", "missing");
    if (auto s = scalar(address, field + ".address", p)) node.address = *s;
    node.names = strings(m.take("names"), field + ".names", p);
    read_ports(m.take("ports"), field + ".ports", p, node.ports);
    if (auto v = choice(m.take("join"), field + ".join", p, kJoinModes)) node.join_existing = *v == 1;
    node.owner = read_owner(m.take("owner"), field + ".owner", p);
    m.finish();
    check_node(node, field, p, [&](const std::string& f, const std::string& why) {
        const bool about_address = f.ends_with(".address");
        p.error(about_address && present(address) ? address : (f.ends_with(".name") && present(name) ? name : n), f,
                why);
    });
    if (!node.name.empty()) {
        auto [it, fresh] = seen.names.emplace(node.name, field);
        if (!fresh) p.error(name, field + ".name", "\"" + node.name + "\" is already the name of " + it->second);
    }
    for (const auto& ep : node.address.empty() ? std::vector<std::string>{} : endpoints(node)) {
        auto [it, fresh] = seen.endpoints.emplace(ep, field);
        if (!fresh) {
            p.error(present(address) ? address : n, field + ".address",
                    "\"" + node.address + "\" with the same ports is already used by " + it->second);
            break;
        }
    }
    spec.nodes.push_back(std::move(node));
}

// nodes: at least one; not all joining an existing cluster; an odd count advised.
void read_nodes(Map& top, const YAML::Node& root, Problems& p, Spec& spec) {
    const YAML::Node nodes = top.take("nodes");
    if (!present(nodes) || !nodes.IsSequence() || nodes.size() == 0) {
        p.error(present(nodes) ? nodes : root, "nodes",
                "expected a list of at least one node: - {name: N, address: A}");
        return;
    }
    NodesSeen seen;
    for (size_t i = 0; i < nodes.size(); ++i) read_node(nodes[i], "nodes[" + std::to_string(i) + "]", p, spec, seen);
    if (!spec.nodes.empty() &&
        std::all_of(spec.nodes.begin(), spec.nodes.end(), [](const NodeSpec& n) { return n.join_existing; }))
        p.error(nodes, "nodes",
                "every node has join: existing; the members that bootstrapped the cluster have join: new "
                "(the default)");
    if (spec.nodes.size() % 2 == 0)
        p.warn(nodes, "nodes",
               std::to_string(spec.nodes.size()) +
                   " nodes: an even count tolerates no more failures than one node fewer; use 3, 5 or 7");
}

// One entry of clients: {name: N} or {name: N, count: K} (K clients N-1..N-K, as for agents).
void read_client(const YAML::Node& c, const std::string& field, Problems& p, Spec& spec, std::set<std::string>& seen) {
    Map m(c, field, p);
    if (!m.ok()) {
        p.error(c, field, "expected {name: N, role: R} or {name: N, count: K, role: R}");
        return;
    }
    const YAML::Node name = m.take("name");
    const YAML::Node count_node = m.take("count");
    const auto base = scalar(name, field + ".name", p);
    const auto count = integer(count_node, field + ".count", p, 1, kMaxClientCount);
    const auto role = client_role(m.take("role"), field + ".role", present(count_node), p);
    m.finish();
    if (!base) {
        if (!present(name)) p.error(c, field + ".name", "missing");
        return;
    }
    if (!valid_name(*base)) {
        p.error(name, field + ".name", "\"" + *base + "\" is not valid: " + std::string(kNameRule));
        return;
    }
    const int k = count.value_or(0);
    for (int j = 0; j < std::max(k, 1); ++j) {
        const std::string n = present(count_node) ? *base + "-" + std::to_string(j + 1) : *base;
        if (!seen.insert(n).second) {
            p.error(name, field + ".name", "client \"" + n + "\" is listed twice");
            break;
        }
        spec.clients.push_back({n, c.Mark().line + 1, present(count_node), role.value_or(Role::Admin)});
    }
}

// clients: a list, and a warning when the security layout makes their certificates pointless.
void read_clients(Map& top, Problems& p, Spec& spec) {
    const YAML::Node clients = top.take("clients");
    if (!present(clients)) return;
    if (!clients.IsSequence()) {
        p.error(clients, "clients", "expected a list: - {name: admin}");
        return;
    }
    std::set<std::string> seen;
    for (size_t i = 0; i < clients.size(); ++i)
        read_client(clients[i], "clients[" + std::to_string(i) + "]", p, spec, seen);
    if (!spec.clients.empty() && !spec.security->client_tls)
        p.warn(clients, "clients",
               "security \"" + std::string(spec.security->name) +
                   "\" has no TLS on the client port: no client certificates are issued");
    else if (!spec.clients.empty() && !spec.security->client_cert_auth)
        p.warn(clients, "clients",
               "security \"" + std::string(spec.security->name) +
                   "\" does not require client certificates: they are issued but not checked");
}

// The YAML document's root mapping, or the one error that stops reading it.
std::optional<YAML::Node> load_root(std::string_view text, std::string_view source, SpecResult& result) {
    YAML::Node root;
    try {
        root = YAML::Load(std::string(text));
    } catch (const YAML::Exception& e) {
        result.errors.push_back(std::string(source) + ":" + std::to_string(e.mark.line + 1) +
                                ": not valid YAML: " + e.msg);
        return std::nullopt;
    }
    if (!root.IsMap()) {
        result.errors.push_back(std::string(source) +
                                ": expected a mapping with at least cluster: and nodes: (see docs/cluster-spec.md)");
        return std::nullopt;
    }
    return root;
}

}  // namespace

SpecResult parse_spec(std::string_view text, std::string_view source) {
    SpecResult result;
    const auto root = load_root(text, source, result);
    if (!root) return result;
    Problems p{std::string(source)};
    Spec spec;
    spec.source = std::string(source);
    spec.security = &kLayouts[0];
    Map top(*root, "", p);
    read_cluster(top, *root, p, spec);
    read_settings(top, p, spec);
    if (const YAML::Node pki_node = top.take("pki"); present(pki_node)) read_pki(pki_node, p, spec);
    read_nodes(top, *root, p, spec);
    read_clients(top, p, spec);
    spec.owner = read_owner(top.take("owner"), "owner", p);
    top.finish();
    if (spec.shared_ca && !spec.security->client_tls && !spec.security->peer_tls)
        p.warn(*root, "ca",
               "security \"" + std::string(spec.security->name) + "\" uses no certificates; ca: has no effect");

    result.errors = std::move(p.errors);
    result.warnings = std::move(p.warnings);
    if (result.errors.empty()) result.spec = std::move(spec);
    return result;
}

Spec load_spec(std::string_view text, std::string_view source, Warnings& warnings) {
    SpecResult r = parse_spec(text, source);
    warnings.insert(warnings.end(), r.warnings.begin(), r.warnings.end());
    if (!r.errors.empty()) {
        std::string all;
        for (const auto& e : r.errors) all += (all.empty() ? "" : "\n") + e;
        throw Error(Code::SpecInvalid, all);
    }
    return std::move(*r.spec);
}

std::vector<std::string> check_new_node(const Spec& spec, const NodeSpec& node) {
    std::vector<std::string> errors;
    Problems p{spec.source};
    check_node(node, "new node", p,
               [&](const std::string& f, const std::string& why) { errors.push_back(f + ": " + why); });
    for (const auto& n : spec.nodes) {
        if (n.name == node.name)
            errors.push_back("new node.name: \"" + node.name + "\" is already a node of " + spec.source);
        const auto mine = endpoints(node);
        for (const auto& ep : endpoints(n)) {
            if (std::find(mine.begin(), mine.end(), ep) != mine.end()) {
                errors.push_back("new node.address: " + ep + " is already used by node " + n.name);
                break;
            }
        }
    }
    return errors;
}

}  // namespace trellis::cluster
