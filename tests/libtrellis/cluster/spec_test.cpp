#include "cluster/spec.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support.hpp"

namespace trellis::cluster {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

SpecResult parse(const std::string& text) { return parse_spec(text, "spec.yml"); }

TEST(Spec, LoopbackExampleIsTheFullMtlsThreeNodeCluster) {
    const auto text = trellis::testing::slurp(trellis::testing::source_path("examples/loopback-3.yml"));
    const SpecResult r = parse_spec(text, "examples/loopback-3.yml");
    ASSERT_TRUE(r.errors.empty()) << r.errors.front();
    EXPECT_TRUE(r.warnings.empty());
    const Spec& s = *r.spec;
    EXPECT_EQ(s.name, "loopback-3");
    EXPECT_EQ(s.security->name, "full");
    EXPECT_TRUE(s.security->client_cert_auth && s.security->peer_cert_auth);
    EXPECT_FALSE(s.shared_ca);
    ASSERT_EQ(s.nodes.size(), 3u);
    EXPECT_EQ(s.nodes[0].name, "backend-1");
    EXPECT_EQ(s.nodes[0].address, "127.0.0.11");
    EXPECT_EQ(s.nodes[2].address, "127.0.0.13");
    EXPECT_EQ(s.nodes[1].ports.client, 2379);
    EXPECT_EQ(s.nodes[1].ports.peer, 2380);
    EXPECT_EQ(s.nodes[1].ports.api, 8080);
    ASSERT_EQ(s.clients.size(), 1u);
    EXPECT_EQ(s.clients[0].name, "admin");
}

TEST(Spec, EveryExampleParses) {
    for (const char* name : {"examples/loopback-3.yml", "examples/guide-10.0.0.yml", "examples/external-etcd.yml"}) {
        const auto r = parse_spec(trellis::testing::slurp(trellis::testing::source_path(name)), name);
        EXPECT_TRUE(r.errors.empty()) << name << ": " << (r.errors.empty() ? "" : r.errors.front());
    }
}

TEST(Spec, DefaultsAreEverythingOn) {
    const auto r = parse("cluster: {name: c}\nnodes:\n  - {name: a, address: 10.1.0.1}\n");
    ASSERT_TRUE(r.spec);
    EXPECT_EQ(r.spec->security->name, "full");
    EXPECT_FALSE(r.spec->shared_ca);
    EXPECT_EQ(r.spec->token, "trellis-c");
    EXPECT_EQ(r.spec->store, StoreKind::Embedded);
    EXPECT_EQ(r.spec->leaf_key.algo, pki::KeyAlgorithm::Ecdsa);
    EXPECT_EQ(r.spec->state_dir, "/var/lib/trellis");
}

TEST(Spec, AllErrorsAreReportedTogetherWithLineAndField) {
    const std::string text =
        "cluster:\n"                                                   // 1
        "  name: c\n"                                                  // 2
        "  tokn: x\n"                                                  // 3 unknown key
        "securty: full\n"                                              // 4 unknown key
        "nodes:\n"                                                     // 5
        "  - {name: a, address: 10.0.0.1}\n"                           // 6
        "  - {name: a, address: 10.0.0.2}\n"                           // 7 duplicate name
        "  - {name: b, address: 10.0.0.1}\n"                           // 8 duplicate address
        "  - {name: c, address: 10.0.0.300}\n"                         // 9 invalid IP
        "  - {name: d, address: bad..host, names: [-x]}\n"             // 10 invalid host name, invalid SAN
        "  - {name: e, address: 10.0.0.5, ports: {client: 70000}}\n";  // 11 bad port
    const auto r = parse(text);
    EXPECT_FALSE(r.spec);
    EXPECT_THAT(
        r.errors,
        ElementsAre(
            HasSubstr("spec.yml:3: cluster.tokn: unknown key \"tokn\" (did you mean \"token\"?)"),
            HasSubstr("spec.yml:7: nodes[1].name: \"a\" is already the name of nodes[0]"),
            HasSubstr("spec.yml:8: nodes[2].address: \"10.0.0.1\" with the same ports is already used by nodes[0]"),
            HasSubstr("spec.yml:9: nodes[3].address: \"10.0.0.300\" is not a valid IP address or host name"),
            HasSubstr("spec.yml:10: nodes[4].address: \"bad..host\" is not a valid"),
            HasSubstr("spec.yml:10: nodes[4].names[0]: \"-x\" is not a valid"),
            HasSubstr("spec.yml:11: nodes[5].ports.client: expected a whole number from 1 to 65535"),
            HasSubstr("spec.yml:4: securty: unknown key \"securty\" (did you mean \"security\"?)")));
    // Six nodes: even, a warning even though there are errors.
    EXPECT_THAT(r.warnings, ElementsAre(HasSubstr("spec.yml:6: nodes: 6 nodes: an even count")));
}

TEST(Spec, EvenNodeCountIsOnlyAWarning) {
    const auto r =
        parse("cluster: {name: c}\nnodes:\n  - {name: a, address: 10.1.0.1}\n  - {name: b, address: 10.1.0.2}\n");
    ASSERT_TRUE(r.spec);
    ASSERT_EQ(r.warnings.size(), 1u);
    EXPECT_THAT(r.warnings[0], HasSubstr("2 nodes"));
}

TEST(Spec, ValuesAreChecked) {
    struct Case {
        std::string yaml;
        std::string expect;
    };
    const std::string nodes = "nodes:\n  - {name: a, address: 10.1.0.1}\n";
    const std::vector<Case> cases = {
        {"cluster: {name: c, token: \"\"}\n" + nodes, "cluster.token: must not be empty"},
        {"cluster: {name: c}\nsecurity: tls\n" + nodes, "security: \"tls\" is not one of full, insecure"},
        {"cluster: {name: c}\nstore: etcd\n" + nodes, "store: \"etcd\" is not one of embedded, external"},
        {"cluster: {name: c}\nca: two\n" + nodes, "ca: \"two\" is not one of separate, shared"},
        {"cluster: {name: c}\npki: {leaf: {key: {algo: rsa, size: 1024}}}\n" + nodes, "pki.leaf.key"},
        {"cluster: {name: c}\npki: {ca: {key: {algo: dsa}}}\n" + nodes,
         "pki.ca.key.algo: \"dsa\" is not one of rsa, ecdsa, ed25519"},
        {"cluster: {name: c}\npki: {leaf: {validity: forever}}\n" + nodes,
         "pki.leaf.validity: \"forever\" is not a duration"},
        {"cluster: {name: c}\npki: {renew-before: 9000h}\n" + nodes, "pki.renew-before: must be shorter"},
        {"cluster: {name: c}\nstate-dir: var/lib\n" + nodes, "state-dir: must be an absolute path"},
        {"cluster: {name: c}\nports: {client: 2379, peer: 2379}\n" + nodes,
         "ports: client, peer and api ports must all differ"},
        {"cluster: {name: c}\nnodes:\n  - {name: a, address: 0.0.0.0}\n",
         "nodes[0].address: \"0.0.0.0\" is a wildcard"},
        {"cluster: {name: c}\nnodes:\n  - {name: ca, address: 10.1.0.1}\n",
         "nodes[0].name: \"ca\" is not a valid node name"},
        {"cluster: {name: c}\nnodes: []\n", "nodes: expected a list of at least one node"},
        {"cluster: {name: c}\n" + nodes + "clients:\n  - {name: admin}\n  - {name: admin}\n",
         "clients[1].name: client \"admin\" is listed twice"},
        {"cluster: {name: c}\n" + nodes + "clients:\n  - {name: agent, count: 0}\n",
         "clients[0].count: expected a whole number"},
        {"cluster: {name: c}\n" + nodes + "clients:\n  - {name: ops, role: root}\n",
         "spec.yml:5: clients[0].role: \"root\" is not a client role: expected admin, reader or agent"},
        {"cluster: {name: c}\n" + nodes + "clients:\n  - {name: ops, role: node}\n",
         "clients[0].role: \"node\" is not a client role: expected admin, reader or agent (node is for the"},
        {"cluster: {name: c}\n" + nodes + "clients:\n  - {name: ops, role: [admin]}\n",
         "clients[0].role: expected a single value"},
        // Issue 9: subject values X.509 cannot hold are the spec's error, with line and field.
        {"cluster: {name: c}\npki: {ca: {subject: {cn: CA, c: USA}}}\n" + nodes,
         "pki.ca.subject.c: \"USA\" cannot be a subject C"},
        {"cluster: {name: c}\npki: {ca: {subject: {cn: " + std::string(65, 'x') + "}}}\n" + nodes,
         "pki.ca.subject.cn: \""},
        {"nodes: [\n", "not valid YAML"},
        {"cluster: {name: c}\n", "nodes: expected a list"},
        {nodes, "cluster: missing"},
    };
    for (const auto& c : cases) {
        const auto r = parse(c.yaml);
        ASSERT_FALSE(r.errors.empty()) << c.yaml;
        EXPECT_THAT(r.errors.front(), HasSubstr(c.expect)) << c.yaml;
        EXPECT_FALSE(r.spec) << c.yaml;
    }
}

TEST(Spec, ClientsDefaultToAdminAndCountedSetsToAgentUnlessARoleIsGiven) {
    const auto r = parse(
        "cluster: {name: c}\nnodes:\n  - {name: a, address: 10.1.0.1}\nclients:\n  - name: admin\n"
        "  - {name: monitor, role: reader}\n  - {name: agent, count: 2}\n  - {name: probe, count: 1, role: reader}\n"
        "  - {name: bot, role: agent}\n");
    ASSERT_TRUE(r.spec) << (r.errors.empty() ? "" : r.errors.front());
    std::vector<std::pair<std::string, Role>> got;
    for (const auto& c : r.spec->clients) got.emplace_back(c.name, c.role);
    const std::vector<std::pair<std::string, Role>> want{{"admin", Role::Admin},    {"monitor", Role::Reader},
                                                         {"agent-1", Role::Agent},  {"agent-2", Role::Agent},
                                                         {"probe-1", Role::Reader}, {"bot", Role::Agent}};
    EXPECT_EQ(got, want);
}

TEST(Spec, ClientCountExpandsToNumberedClients) {
    const auto r = parse(
        "cluster: {name: c}\nnodes:\n  - {name: a, address: 10.1.0.1}\nclients:\n  - name: admin\n"
        "  - {name: agent, count: 1000}\n");
    ASSERT_TRUE(r.spec);
    ASSERT_EQ(r.spec->clients.size(), 1001u);
    EXPECT_EQ(r.spec->clients[1].name, "agent-1");
    EXPECT_EQ(r.spec->clients[1000].name, "agent-1000");
}

TEST(Spec, LoadSpecThrowsAllErrorsAtOnce) {
    Warnings w;
    try {
        load_spec("cluster: {name: c, x: 1}\nnodes:\n  - {name: a, address: 1.2.3}\n", "s.yml", w);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), Code::SpecInvalid);
        EXPECT_THAT(e.what(), HasSubstr("s.yml:1: cluster.x: unknown key"));
        EXPECT_THAT(e.what(), HasSubstr("\ns.yml:3: nodes[0].address"));
    }
}

NodeSpec new_node(const std::string& name, const std::string& address) {
    NodeSpec n;
    n.name = name;
    n.address = address;
    return n;
}

TEST(Spec, CheckNewNode) {
    Warnings w;
    const Spec s = load_spec("cluster: {name: c}\nnodes:\n  - {name: a, address: 10.1.0.1}\n", "s.yml", w);
    EXPECT_TRUE(check_new_node(s, new_node("b", "10.1.0.2")).empty());
    EXPECT_THAT(check_new_node(s, new_node("a", "10.1.0.2")), ElementsAre(HasSubstr("already a node")));
    EXPECT_THAT(check_new_node(s, new_node("b", "10.1.0.1")), ElementsAre(HasSubstr("already used by node a")));
    EXPECT_THAT(check_new_node(s, new_node("b", "not an ip")), ElementsAre(HasSubstr("not a valid IP")));
}

}  // namespace
}  // namespace trellis::cluster
