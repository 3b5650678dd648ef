#include "cluster/render.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>

#include "support.hpp"

namespace trellis::cluster {
namespace {

// A key as the rendered file spells it (the test reads them back by name).
Key key_of(std::string_view name) {
    const BackendKey* k = find_backend_key(name);
    if (k == nullptr) throw std::invalid_argument("no backend.yml key " + std::string(name));
    return k->id;
}

using ::testing::HasSubstr;

Spec spec_from(const std::string& text) {
    Warnings w;
    return load_spec(text, "spec.yml", w);
}

std::string spec_text(std::string_view security, std::string_view ca, std::string_view store, int nodes) {
    std::string t = "cluster: {name: rt, token: tok-rt}\nsecurity: " + std::string(security) +
                    "\nca: " + std::string(ca) + "\nstore: " + std::string(store) + "\nnodes:\n";
    for (int i = 1; i <= nodes; ++i)
        t += "  - {name: node-" + std::to_string(i) + ", address: 10.9.0." + std::to_string(i) + ", names: [n" +
             std::to_string(i) + ".example.test]}\n";
    return t;
}

const RenderedFile& file_named(const std::vector<RenderedFile>& files, const std::string& path) {
    for (const auto& f : files)
        if (f.path == path) return f;
    throw std::runtime_error("no rendered file " + path);
}

// What the spec asks of node i, written out independently of render.cpp.
std::map<std::string, std::string> expected_values(const Spec& s, size_t i) {
    const NodeSpec& n = s.nodes[i];
    const std::string cs = s.security->client_tls ? "https" : "http";
    const std::string ps = s.security->peer_tls ? "https" : "http";
    std::map<std::string, std::string> e;
    e["state-dir"] = s.state_dir;
    if (!s.security->client_tls) e["api-insecure"] = "true";  // the backend refuses a plain API unless told
    e["api-url"] = cs + "://" + n.address + ":" + std::to_string(n.ports.api);
    e["api-listen-address"] = n.address + ":" + std::to_string(n.ports.api);
    std::string initial, clients;
    for (const auto& m : s.nodes) {
        initial +=
            (initial.empty() ? "" : ",") + m.name + "=" + ps + "://" + m.address + ":" + std::to_string(m.ports.peer);
        clients += (clients.empty() ? "" : ",") + cs + "://" + m.address + ":" + std::to_string(m.ports.client);
    }
    if (s.store == StoreKind::External) {
        e["no-embed-etcd"] = "true";
        e["etcd-client-urls"] = clients;
        return e;
    }
    e["etcd-name"] = n.name;
    e["etcd-initial-cluster"] = initial;
    e["etcd-initial-cluster-token"] = s.token;
    e["etcd-initial-cluster-state"] = "new";
    e["etcd-advertise-client-urls"] = cs + "://" + n.address + ":" + std::to_string(n.ports.client);
    e["etcd-listen-client-urls"] = e["etcd-advertise-client-urls"];
    e["etcd-initial-advertise-peer-urls"] = ps + "://" + n.address + ":" + std::to_string(n.ports.peer);
    e["etcd-listen-peer-urls"] = e["etcd-initial-advertise-peer-urls"];
    if (s.security->client_tls) e["etcd-cert-file"] = n.name + ".pem";
    if (s.security->client_tls && s.security->client_cert_auth) e["etcd-client-cert-auth"] = "true";
    if (s.security->peer_tls) {
        e["etcd-peer-client-cert-auth"] = "true";
        e["etcd-peer-cert-file"] = s.shared_ca ? n.name + ".pem" : n.name + "-peer.pem";
        e["etcd-peer-trusted-ca-file"] = s.shared_ca ? "ca.pem" : "peer-ca.pem";
    }
    return e;
}

// Every layout x CA mode x store: each rendered backend.yml parses back (plain yaml-cpp and
// BackendConfig) to exactly the spec's values, and holds exactly node_settings().
TEST(Render, RoundTripEveryLayout) {
    int checked = 0;
    for (const auto& layout : security_layouts()) {
        for (const char* ca : {"separate", "shared"}) {
            for (const char* store : {"embedded", "external"}) {
                const Spec s = spec_from(spec_text(layout.name, ca, store, 3));
                const auto files = render_cluster(s, {});
                for (size_t i = 0; i < s.nodes.size(); ++i) {
                    const std::string where = std::string(layout.name) + "/" + ca + "/" + store + "/" + s.nodes[i].name;
                    const std::string text = file_named(files, s.nodes[i].name + "/backend.yml").content;
                    const YAML::Node raw = YAML::Load(text);
                    ASSERT_TRUE(raw.IsMap()) << where;
                    const auto config = BackendConfig::from_yaml(text, "/etc/trellis/backend.yml");
                    for (const auto& [key, value] : expected_values(s, i)) {
                        ASSERT_TRUE(config.has(key_of(key))) << where << " lacks " << key;
                        EXPECT_EQ(raw[key].as<std::string>(), value) << where << " " << key;
                        std::string joined;
                        for (const auto& v : config.find(key_of(key))->values)
                            joined += (joined.empty() ? "" : ",") + v;
                        EXPECT_EQ(joined, value) << where << " " << key;
                    }
                    const auto settings = node_settings(s, s.nodes[i], s.nodes, {});
                    EXPECT_EQ(config.settings().size(), settings.size()) << where;
                    for (const auto& [key, values] : settings) {
                        ASSERT_NE(config.find(key_of(key)), nullptr) << where << " template omits " << key;
                        EXPECT_EQ(config.find(key_of(key))->values, values) << where << " " << key;
                    }
                    // Secure by default: TLS files only where TLS is on, and the trusted CA only with cert auth
                    // (etcd 3.4 demands client certs as soon as it has one).
                    EXPECT_EQ(config.has(Key::EtcdPeerCertFile), layout.peer_tls && s.store == StoreKind::Embedded);
                    EXPECT_EQ(config.has(Key::EtcdTrustedCaFile),
                              layout.client_tls && (layout.client_cert_auth || s.store == StoreKind::External));
                    // Every rendered node starts: its API is HTTPS where the layout has client TLS, else
                    // plain HTTP asked for explicitly.
                    EXPECT_EQ(api_transport(config), layout.client_tls ? ApiTransport::Https : ApiTransport::Http)
                        << where;
                    ++checked;
                }
            }
        }
    }
    EXPECT_EQ(checked, 5 * 2 * 2 * 3);
}

TEST(Render, AbsolutePathsWithPathsOption) {
    const Spec s = spec_from(spec_text("full", "separate", "embedded", 3));
    const auto files = render_cluster(s, RenderOptions{"/etc/trellis"});
    const auto c = BackendConfig::from_yaml(file_named(files, "node-2/backend.yml").content, "/tmp/x/backend.yml");
    EXPECT_EQ(c.get(Key::EtcdCertFile), "/etc/trellis/node-2.pem");
    EXPECT_EQ(c.get(Key::EtcdPeerTrustedCaFile), "/etc/trellis/peer-ca.pem");
    EXPECT_EQ(c.get(Key::TrustedCaFile), "/etc/trellis/ca.pem");
    // Relative by default, resolved against wherever the folder is.
    const auto rel = render_cluster(s, {});
    const auto r = BackendConfig::from_yaml(file_named(rel, "node-2/backend.yml").content, "/srv/node-2/backend.yml");
    EXPECT_EQ(r.find(Key::EtcdCertFile)->values.front(), "node-2.pem");
    EXPECT_EQ(r.get(Key::EtcdCertFile), "/srv/node-2/node-2.pem");
}

TEST(Render, ExternalStoreHasEtcdCommandLineAndUnits) {
    const Spec s = spec_from(spec_text("full", "separate", "external", 3));
    const auto files = render_cluster(s, RenderOptions{"/etc/trellis"});
    const auto& sh = file_named(files, "node-1/etcd.sh");
    EXPECT_EQ(sh.mode, 0755u);
    const auto args = member_config(s, s.nodes[0], s.nodes, RenderOptions{"/etc/trellis"}).etcd_arguments();
    for (const auto& a : args) EXPECT_THAT(sh.content, HasSubstr(a)) << "etcd.sh lacks " << a;
    EXPECT_THAT(sh.content, HasSubstr("--client-cert-auth=true"));
    EXPECT_THAT(sh.content, HasSubstr("--peer-trusted-ca-file=/etc/trellis/peer-ca.pem"));
    EXPECT_THAT(sh.content, HasSubstr("--data-dir=/var/lib/trellis/etcd"));
    const auto& unit = file_named(files, "node-1/etcd.service");
    EXPECT_THAT(unit.content, HasSubstr("ExecStart=/usr/bin/etcd \\\n  --"));
    EXPECT_THAT(unit.content, HasSubstr("--initial-cluster=node-1=https://10.9.0.1:2380,node-2=https://10.9.0.2:2380"));
    const auto& backend_unit = file_named(files, "node-1/trellis-backend.service");
    EXPECT_THAT(backend_unit.content, HasSubstr("After=network-online.target etcd.service"));
    EXPECT_THAT(backend_unit.content,
                HasSubstr("ExecStart=/usr/bin/trellis-backend start --config /etc/trellis/backend.yml"));
    const auto c = BackendConfig::from_yaml(file_named(files, "node-3/backend.yml").content, "backend.yml");
    EXPECT_TRUE(c.get_bool(Key::NoEmbedEtcd));
    EXPECT_EQ(c.etcd_client_cert_file(), "/etc/trellis/node-3-client.pem");
    EXPECT_EQ(c.store_endpoints().size(), 3u);
}

TEST(Render, JoiningNodeUsesExistingStateAndIncludesItself) {
    const Spec s = spec_from(spec_text("full", "separate", "embedded", 3));
    std::vector<NodeSpec> members = s.nodes;
    members.push_back(NodeSpec{"node-4", "10.9.0.4", {}, {}, 0, true});
    members.push_back(NodeSpec{"node-5", "10.9.0.5", {}, {}, 0, true});
    const auto files = render_node(s, members[3], members, {});
    const auto c = BackendConfig::from_yaml(file_named(files, "node-4/backend.yml").content, "backend.yml");
    EXPECT_EQ(c.get(Key::EtcdInitialClusterState), "existing");
    EXPECT_THAT(c.get(Key::EtcdInitialCluster), HasSubstr("node-4=https://10.9.0.4:2380"));
    EXPECT_EQ(c.get_list(Key::EtcdInitialCluster).size(), 4u);  // node-5 joins later: not yet a member
    // The bootstrap members' files do not change when nodes join.
    for (size_t i = 0; i < 3; ++i)
        EXPECT_EQ(render_node(s, members[i], members, {}), render_node(s, s.nodes[i], s.nodes, {})) << members[i].name;
    EXPECT_EQ(initial_members(members[4], members).size(), 5u);
}

TEST(Render, JoinExistingInTheSpecKeepsTheNodeJoined) {
    const Spec s = spec_from(spec_text("full", "separate", "embedded", 3) +
                             "  - {name: node-4, address: 10.9.0.4, join: existing}\n");
    const auto files = render_cluster(s, {});
    const auto c4 = BackendConfig::from_yaml(file_named(files, "node-4/backend.yml").content, "backend.yml");
    EXPECT_EQ(c4.get(Key::EtcdInitialClusterState), "existing");
    EXPECT_EQ(c4.get_list(Key::EtcdInitialCluster).size(), 4u);
    const auto c1 = BackendConfig::from_yaml(file_named(files, "node-1/backend.yml").content, "backend.yml");
    EXPECT_EQ(c1.get(Key::EtcdInitialClusterState), "new");
    EXPECT_EQ(c1.get_list(Key::EtcdInitialCluster).size(), 3u);
}

TEST(Render, FilesDoNotNameTheSpecsPath) {
    Warnings w;
    const std::string text = spec_text("full", "separate", "external", 3);
    const auto a = render_cluster(load_spec(text, "/one/place/spec.yml", w), {});
    const auto b = render_cluster(load_spec(text, "-", w), {});
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i].content, b[i].content) << a[i].path;
        EXPECT_EQ(a[i].content.find("spec.yml"), std::string::npos) << a[i].path;
    }
}

TEST(Render, SevenNodeCluster) {
    const Spec s = spec_from(spec_text("full", "separate", "embedded", 7));
    const auto files = render_cluster(s, {});
    EXPECT_EQ(files.size(), 7u * 2);
    for (const auto& n : s.nodes) {
        const auto c = BackendConfig::from_yaml(file_named(files, n.name + "/backend.yml").content, "backend.yml");
        EXPECT_EQ(c.get_list(Key::EtcdInitialCluster).size(), 7u);
        EXPECT_EQ(c.get(Key::EtcdName), n.name);
    }
}

TEST(Render, HostNamesListenOnEveryAddressAndIpv6IsBracketed) {
    const Spec s = spec_from(
        "cluster: {name: h}\nnodes:\n  - {name: a, address: a.example.test}\n  - {name: b, address: \"fd00::2\"}\n"
        "  - {name: c, address: 10.0.0.3}\n");
    const auto files = render_cluster(s, {});
    const auto a = BackendConfig::from_yaml(file_named(files, "a/backend.yml").content, "backend.yml");
    EXPECT_EQ(a.get(Key::EtcdListenPeerUrls), "https://0.0.0.0:2380");
    EXPECT_EQ(a.get(Key::EtcdAdvertiseClientUrls), "https://a.example.test:2379");
    const auto b = BackendConfig::from_yaml(file_named(files, "b/backend.yml").content, "backend.yml");
    EXPECT_EQ(b.get(Key::EtcdListenClientUrls), "https://[fd00::2]:2379");
    EXPECT_EQ(b.get(Key::ApiListenAddress), "[fd00::2]:8080");
}

TEST(Render, YamlQuote) {
    EXPECT_EQ(yaml_quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
    EXPECT_EQ(YAML::Load("k: " + yaml_quote("x: \"y\" #z"))["k"].as<std::string>(), "x: \"y\" #z");
}

}  // namespace
}  // namespace trellis::cluster
