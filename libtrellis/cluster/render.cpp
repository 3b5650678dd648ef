#include "cluster/render.hpp"

#include <kainjow/mustache.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <span>
#include <tuple>

#include "cluster/cert_table.hpp"
#include "cluster/templates.hpp"
#include "core/files.hpp"
#include "core/host.hpp"
#include "core/text.hpp"
#include "core/url.hpp"

namespace trellis::cluster {
namespace {

namespace mustache = kainjow::mustache;

constexpr mode_t kScriptMode = 0755;
constexpr std::string_view kDefaultBase = "/etc/trellis";

std::string url(std::string_view scheme, std::string_view host, int port) {
    return Url{std::string(scheme), std::string(host), port}.text();
}

// etcd binds listen URLs to IPs only; a node known by a host name listens on every address.
std::string listen_host(const NodeSpec& node) { return is_ip(node.address) ? node.address : "0.0.0.0"; }

std::string ref(const RenderOptions& options, const std::string& file) {
    if (file.empty() || options.paths.empty()) return file;
    return (std::filesystem::path(options.paths) / file).string();
}

std::string base_dir(const RenderOptions& options) {
    return options.paths.empty() ? std::string(kDefaultBase) : options.paths;
}

// A template parsed once per thread: parsing was 3 of the 5 million instructions that rendering a
// 3-node cluster took, and render() leaves the parsed tree as it was.
mustache::mustache& parsed_template(std::string_view name) {
    thread_local std::map<std::string, mustache::mustache, std::less<>> parsed;
    if (const auto it = parsed.find(name); it != parsed.end()) return it->second;
    const auto source = template_source(name);
    if (!source) throw Error(Code::Internal, "template \"" + std::string(name) + "\" is not compiled in");
    const auto it = parsed.try_emplace(std::string(name), std::string(*source)).first;
    if (!it->second.is_valid()) {
        const std::string why = it->second.error_message();
        parsed.erase(it);
        throw Error(Code::Internal, "templates/" + std::string(name) + ".mustache: " + why);
    }
    // Not HTML: values are quoted for YAML, shell or systemd before they reach the template.
    it->second.set_custom_escape([](const std::string& s) { return s; });
    return it->second;
}

std::string render_template(std::string_view name, const mustache::data& data) {
    std::string out = parsed_template(name).render(data);
    // Sections that render nothing can leave their blank separator lines behind: keep one.
    for (size_t at; (at = out.find("\n\n\n")) != std::string::npos;) out.erase(at, 1);
    return out;
}

// A shell word: single-quoted unless it is plainly safe.
std::string shell_word(const std::string& s) {
    const bool safe = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) ||
               std::string_view("-_=.,/:@[]+").find(c) != std::string_view::npos;
    });
    if (safe) return s;
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

// A systemd ExecStart word: '%' is a specifier, whitespace needs quotes.
std::string systemd_word(const std::string& s) {
    std::string out;
    bool quote = s.empty();
    for (char c : s) {
        if (c == '%')
            out += "%%";
        else if (c == '"' || c == '\\')
            out += std::string("\\") + c;
        else
            out += c;
        if (std::isspace(static_cast<unsigned char>(c)) || c == '"' || c == ';') quote = true;
    }
    return quote ? "\"" + out + "\"" : out;
}

mustache::data common_data(const Spec& spec, const NodeSpec& node, const RenderOptions& options) {
    mustache::data d;
    d.set("node", node.name);
    d.set("address", node.address);
    d.set("cluster", spec.name);
    d.set("security", std::string(spec.security->name));
    d.set("store", spec.store == StoreKind::External ? "external" : "embedded");
    d.set("base", base_dir(options));
    d.set("relative", options.paths.empty());
    d.set("embedded", spec.store == StoreKind::Embedded);
    d.set("external", spec.store == StoreKind::External);
    d.set("client_tls", spec.security->client_tls);
    d.set("plain_api", !spec.security->client_tls);
    d.set("client_cert_auth", spec.security->client_tls && spec.security->client_cert_auth);
    d.set("peer_tls", spec.security->peer_tls);
    // owner: the services run as that user (and group), who may read the node's folder (plan.cpp).
    const OwnerSpec* owner = spec.owner_of(node);
    d.set("owner", owner != nullptr);
    d.set("owner_user", owner ? owner->user : std::string());
    d.set("owner_group", owner ? owner->group : std::string());
    d.set("has_owner_group", owner && !owner->group.empty());
    return d;
}

mustache::data args_data(const std::vector<std::string>& args) {
    mustache::data list{mustache::data::type::list};
    for (size_t i = 0; i < args.size(); ++i) {
        mustache::data a;
        a.set("shell", shell_word(args[i]));
        a.set("systemd", systemd_word(args[i]));
        a.set("last", i + 1 == args.size());
        list.push_back(a);
    }
    return list;
}

}  // namespace

NodeFiles node_files(const Spec& spec, const NodeSpec& node) {
    NodeFiles f;
    const std::span<const NodeSpec> one(&node, 1);
    for (const auto& e : spec_certificates(spec, one, false)) {
        const std::pair<std::string, std::string> files{e.cert.filename(), e.key.filename()};
        switch (e.kind->kind) {
            case CertKind::NodeServer:
                std::tie(f.cert, f.key) = files;
                break;
            case CertKind::NodePeer:
                std::tie(f.peer_cert, f.peer_key) = files;
                break;
            case CertKind::ApiServer:
                std::tie(f.api_cert, f.api_key) = files;
                break;
            case CertKind::NodeClient:
                std::tie(f.client_cert, f.client_key) = files;
                break;
            default:
                break;
        }
    }
    for (const auto& copy : ca_copies(spec, one, false))
        (copy.ca == CertKind::PeerCa ? f.peer_ca_cert : f.ca_cert) = copy.path.filename();
    if (spec.security->peer_tls && spec.shared_ca) {  // the single CA's server cert is the peer cert too
        f.peer_ca_cert = f.ca_cert;
        f.peer_cert = f.cert;
        f.peer_key = f.key;
    }
    if (!f.ca_cert.empty()) f.crl = crl_path(f.ca_cert).string();
    if (!f.peer_ca_cert.empty()) f.peer_crl = crl_path(f.peer_ca_cert).string();
    return f;
}

std::vector<const NodeSpec*> initial_members(const NodeSpec& node, const std::vector<NodeSpec>& members) {
    std::vector<const NodeSpec*> out;
    bool reached = false;  // joined nodes after `node` joined after it: not yet members when it starts
    for (const auto& m : members) {
        reached |= m.name == node.name;
        if (!m.join_existing || (node.join_existing && (!reached || m.name == node.name))) out.push_back(&m);
    }
    return out;
}

std::vector<std::pair<std::string, std::vector<std::string>>> node_settings(const Spec& spec, const NodeSpec& node,
                                                                            const std::vector<NodeSpec>& members,
                                                                            const RenderOptions& options) {
    const SecurityLayout& s = *spec.security;
    const NodeFiles files = node_files(spec, node);
    const std::string cs(client_scheme(spec));
    std::vector<std::pair<std::string, std::vector<std::string>>> out;
    auto put = [&](Key key, std::string value) { out.push_back({std::string(key_name(key)), {std::move(value)}}); };
    put(Key::StateDir, spec.state_dir);
    // Like etcd's listen URLs: the node's own IP, or every address when it is known by name.
    put(Key::ApiListenAddress,
        host_for_url(is_ip(node.address) ? node.address : "::") + ":" + std::to_string(node.ports.api));
    put(Key::ApiUrl, url(cs, node.address, node.ports.api));
    if (s.client_tls) {
        put(Key::CertFile, ref(options, files.api_cert));
        put(Key::KeyFile, ref(options, files.api_key));
    } else {
        // The backend refuses a plain-HTTP API unless told; a layout without client TLS is telling it.
        put(Key::ApiInsecure, "true");
    }
    if (s.client_tls && s.client_cert_auth) {
        put(Key::TrustedCaFile, ref(options, files.ca_cert));
        put(Key::CrlFile, ref(options, files.crl));
    }
    if (spec.store == StoreKind::Embedded) {
        const BackendConfig member = member_config(spec, node, members, options);
        // Keep the template's order (the table's), which the map in BackendConfig does not.
        for (const auto& key : backend_keys()) {
            if (key.id == Key::StateDir) continue;  // already first, as the backend's own
            if (const Setting* set = member.find(key.id)) out.push_back({set->key, set->values});
        }
    } else {
        put(Key::NoEmbedEtcd, "true");
        std::vector<std::string> urls;
        for (const auto& m : members) urls.push_back(url(cs, m.address, m.ports.client));
        out.push_back({std::string(key_name(Key::EtcdClientUrls)), urls});
        if (s.client_tls) put(Key::EtcdTrustedCaFile, ref(options, files.ca_cert));
        if (!files.client_cert.empty()) {
            put(Key::EtcdClientCertFile, ref(options, files.client_cert));
            put(Key::EtcdClientKeyFile, ref(options, files.client_key));
        }
    }
    return out;
}

BackendConfig member_config(const Spec& spec, const NodeSpec& node, const std::vector<NodeSpec>& members,
                            const RenderOptions& options) {
    const SecurityLayout& s = *spec.security;
    const NodeFiles files = node_files(spec, node);
    const std::string cs(client_scheme(spec)), ps(peer_scheme(spec));
    BackendConfig c;
    const Origin origin{"spec " + spec.source, 0};
    auto put = [&](Key key, std::vector<std::string> values) { c.set(key, values, origin); };
    std::vector<std::string> initial;
    for (const NodeSpec* m : initial_members(node, members))
        initial.push_back(m->name + "=" + url(ps, m->address, m->ports.peer));
    put(Key::StateDir, {spec.state_dir});
    put(Key::EtcdAdvertiseClientUrls, {url(cs, node.address, node.ports.client)});
    put(Key::EtcdListenClientUrls, {url(cs, listen_host(node), node.ports.client)});
    put(Key::EtcdListenPeerUrls, {url(ps, listen_host(node), node.ports.peer)});
    put(Key::EtcdInitialCluster, initial);
    put(Key::EtcdInitialAdvertisePeerUrls, {url(ps, node.address, node.ports.peer)});
    put(Key::EtcdInitialClusterState, {node.join_existing ? "existing" : "new"});
    put(Key::EtcdInitialClusterToken, {spec.token});
    put(Key::EtcdName, {node.name});
    if (s.client_tls) {
        put(Key::EtcdCertFile, {ref(options, files.cert)});
        put(Key::EtcdKeyFile, {ref(options, files.key)});
        // etcd 3.4 demands client certs as soon as it has a trusted CA: only set it when they are wanted.
        if (s.client_cert_auth) {
            put(Key::EtcdTrustedCaFile, {ref(options, files.ca_cert)});
            put(Key::EtcdClientCertAuth, {"true"});
            put(Key::EtcdClientCrlFile, {ref(options, files.crl)});
        } else {
            // The backend must still verify its etcd: with a CA of its own, which etcd never sees.
            put(Key::EtcdClientTrustedCaFile, {ref(options, files.ca_cert)});
        }
    }
    if (s.peer_tls) {
        put(Key::EtcdPeerCertFile, {ref(options, files.peer_cert)});
        put(Key::EtcdPeerKeyFile, {ref(options, files.peer_key)});
        put(Key::EtcdPeerTrustedCaFile, {ref(options, files.peer_ca_cert)});
        put(Key::EtcdPeerClientCertAuth, {s.peer_cert_auth ? "true" : "false"});
        if (s.peer_cert_auth) put(Key::EtcdPeerCrlFile, {ref(options, files.peer_crl)});
    }
    return c;
}

std::string yaml_quote(std::string_view value) {
    std::string out = "\"";
    for (char c : value) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                out += c;
        }
    }
    return out + "\"";
}

std::vector<RenderedFile> render_node(const Spec& spec, const NodeSpec& node, const std::vector<NodeSpec>& members,
                                      const RenderOptions& options) {
    std::vector<RenderedFile> files;
    const std::filesystem::path dir = node.name;
    mustache::data d = common_data(spec, node, options);
    const auto settings = node_settings(spec, node, members, options);
    for (const auto& [key, values] : settings) {
        std::string name = key;
        std::replace(name.begin(), name.end(), '-', '_');
        const BackendKey* info = find_backend_key(key);
        // Booleans stay bare (true/false) so they read as YAML booleans; the rest quoted like the guide.
        d.set(name, info && info->type == KeyType::Bool ? join(values, ",") : yaml_quote(join(values, ",")));
    }
    d.set("paths_note", options.paths.empty() ? "Relative file paths are relative to this file's directory."
                                              : "Files are expected in " + options.paths + ".");
    d.set("peer_ca_note", spec.shared_ca ? "peers are checked against the cluster's single CA (ca: shared)"
                                         : "peers have a CA of their own, so a client certificate is refused here");
    files.push_back({dir / "backend.yml", render_template("backend.yml", d), kPublicMode});

    mustache::data unit = common_data(spec, node, options);
    unit.set("config", (std::filesystem::path(base_dir(options)) / "backend.yml").string());
    files.push_back({dir / "trellis-backend.service", render_template("trellis-backend.service", unit), kPublicMode});

    if (spec.store == StoreKind::External) {
        mustache::data e = common_data(spec, node, options);
        e.set("args", args_data(member_config(spec, node, members, options).etcd_arguments()));
        files.push_back({dir / "etcd.sh", render_template("etcd.sh", e), kScriptMode});
        files.push_back({dir / "etcd.service", render_template("etcd.service", e), kPublicMode});
    }
    return files;
}

namespace {

// The docker network of the nodes: their /24 ("10.0.0.0/24") and a gateway no node uses (from .254 down).
std::pair<std::string, std::string> compose_network(const Spec& spec) {
    std::string prefix;
    std::set<int> used;
    for (const auto& node : spec.nodes) {
        const std::string where = "node " + node.name + " (" + node.address + ")";
        if (!is_ipv4(node.address))
            throw Error(Code::InputInvalidValue,
                        where + ": --compose needs an IPv4 address for every node (a docker network)");
        if (is_loopback(node.address))
            throw Error(Code::InputInvalidValue, where +
                                                     ": a loopback address cannot be on a docker network; "
                                                     "give the nodes addresses of one /24, as the guide's 10.0.0.x");
        const auto dot = node.address.rfind('.');
        if (prefix.empty()) prefix = node.address.substr(0, dot);
        if (node.address.substr(0, dot) != prefix)
            throw Error(Code::InputInvalidValue, where + ": --compose puts the nodes on one docker network, a /24; " +
                                                     prefix + ".0/24 holds the first node");
        used.insert(std::stoi(node.address.substr(dot + 1)));
    }
    int gateway = 254;
    while (gateway > 1 && used.count(gateway)) --gateway;
    return {prefix + ".0/24", prefix + "." + std::to_string(gateway)};
}

}  // namespace

RenderedFile render_compose(const Spec& spec, const RenderOptions& options) {
    if (spec.store != StoreKind::Embedded)
        throw Error(Code::InputInvalidValue,
                    "--compose renders the guide's layout, each backend with its embedded etcd (store: embedded)");
    const auto [subnet, gateway] = compose_network(spec);
    mustache::data d;
    d.set("cluster", spec.name);
    d.set("image", options.compose_image);
    d.set("subnet", subnet);
    d.set("gateway", gateway);
    mustache::data nodes{mustache::data::type::list};
    std::vector<std::string> endpoints, names;
    for (const auto& node : spec.nodes) {
        mustache::data n;
        n.set("name", node.name);
        n.set("address", node.address);
        n.set("base", base_dir(options));
        n.set("config", (std::filesystem::path(base_dir(options)) / "backend.yml").string());
        n.set("state_dir", spec.state_dir);
        nodes.push_back(n);
        endpoints.push_back(std::string(spec.security->client_tls ? "https://" : "http://") + node.address + ":" +
                            std::to_string(node.ports.client));
        names.push_back(node.name);
    }
    d.set("nodes", nodes);
    mustache::data agents{mustache::data::type::list};
    for (const auto& client : spec.clients) {
        if (client.role != Role::Agent) continue;
        mustache::data a;
        a.set("name", client.name);
        a.set("endpoints", join(endpoints, ","));
        a.set("depends", join(names, ", "));
        agents.push_back(a);
    }
    d.set("agents", agents);
    return {"docker-compose.yml", render_template("docker-compose.yml", d), kPublicMode};
}

std::vector<RenderedFile> render_cluster(const Spec& spec, const RenderOptions& options) {
    std::vector<RenderedFile> out;
    for (const auto& node : spec.nodes) {
        auto files = render_node(spec, node, spec.nodes, options);
        std::move(files.begin(), files.end(), std::back_inserter(out));
    }
    return out;
}

}  // namespace trellis::cluster
