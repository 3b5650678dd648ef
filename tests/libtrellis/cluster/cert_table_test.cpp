#include "cluster/cert_table.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "cluster/provision.hpp"
#include "pki/policy.hpp"
#include "support.hpp"

namespace trellis::cluster {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;

Spec spec_of(const std::string& text) {
    Warnings w;
    return load_spec(text, "spec.yml", w);
}

std::string spec_text(std::string_view security, std::string_view ca, std::string_view store) {
    return "cluster: {name: ct}\nsecurity: " + std::string(security) + "\nca: " + std::string(ca) +
           "\nstore: " + std::string(store) +
           "\nnodes:\n  - {name: a, address: 10.1.0.1}\n  - {name: b, address: 10.1.0.2}\n"
           "clients:\n  - name: admin\n  - {name: agent, count: 2}\n";
}

std::vector<std::string> paths_of(const std::vector<CertEntry>& entries) {
    std::vector<std::string> out;
    for (const auto& e : entries) out.push_back(e.cert.string());
    return out;
}

TEST(CertTable, EveryKindOnceWithKnownUsagesAndAnIssuerThatIsACa) {
    std::set<std::string_view> names;
    for (const auto& k : cert_kinds()) {
        EXPECT_TRUE(names.insert(k.name).second) << k.name;
        EXPECT_EQ(&cert_kind(k.kind), &k);
        for (const auto u : k.usages) EXPECT_NE(pki::find_usage(u), nullptr) << k.name << ": " << u;
        if (k.issuer) {
            EXPECT_TRUE(cert_kind(*k.issuer).is_ca()) << k.name;
        }
        EXPECT_EQ(k.folder == CertFolder::Ca, k.is_ca()) << k.name;
    }
    EXPECT_EQ(names.size(), 8u);
}

TEST(CertTable, TheApiOnlyServesAndClientsOnlyDial) {
    const auto& api = cert_kind(CertKind::ApiServer);
    EXPECT_TRUE(api.server_auth());
    EXPECT_EQ(kind_usages(api, pki::KeyAlgorithm::Ecdsa), (std::vector<std::string>{"signing", "server auth"}));
    EXPECT_EQ(kind_usages(cert_kind(CertKind::Admin), pki::KeyAlgorithm::Rsa),
              (std::vector<std::string>{"signing", "key encipherment", "client auth"}));
    EXPECT_FALSE(cert_kind(CertKind::Agent).server_auth());
}

TEST(CertTable, FullLayoutWithSeparateCas) {
    const Spec s = spec_of(spec_text("full", "separate", "embedded"));
    const auto certs = spec_certificates(s);
    EXPECT_THAT(paths_of(certs), ElementsAre("ca/ca.pem", "ca/peer-ca.pem", "a/a.pem", "a/a-peer.pem", "a/a-api.pem",
                                             "b/b.pem", "b/b-peer.pem", "b/b-api.pem", "clients/admin/admin.pem",
                                             "clients/agent-1/agent-1.pem", "clients/agent-2/agent-2.pem"));
    EXPECT_EQ(certs[1].cn, "Trellis CA (peers)");
    EXPECT_EQ(certs[3].kind->kind, CertKind::NodePeer);
    EXPECT_EQ(certs[3].issuer_cert, "ca/peer-ca.pem");
    EXPECT_EQ(certs[3].key, "a/a-peer-key.pem");
    EXPECT_EQ(certs[3].hosts, node_hosts(s.nodes[0]));
    EXPECT_TRUE(certs[8].hosts.empty());
    EXPECT_EQ(certs[8].kind->kind, CertKind::Admin);
    EXPECT_EQ(certs[9].kind->kind, CertKind::Agent);
    std::vector<std::string> copies;
    for (const auto& c : ca_copies(s, s.nodes, true)) copies.push_back(c.path.string());
    EXPECT_THAT(copies, ElementsAre("a/ca.pem", "a/peer-ca.pem", "b/ca.pem", "b/peer-ca.pem", "clients/admin/ca.pem",
                                    "clients/agent-1/ca.pem", "clients/agent-2/ca.pem"));
}

TEST(CertTable, EveryLeafCarriesItsRoleAsItsOnlyOrganization) {
    Spec s = spec_of(spec_text("full", "separate", "external") + "  - {name: monitor, role: reader}\n");
    s.ca_subject.o = "Example";  // the CA's O is not copied into leaves: it could name a role by accident
    s.ca_subject.ou = "Ops";
    std::map<std::string, std::string> o_of;
    for (const auto& e : spec_certificates(s)) {
        if (e.kind->is_ca()) {
            EXPECT_FALSE(e.role) << e.cert;
            continue;
        }
        ASSERT_TRUE(e.role) << e.cert;
        const pki::Name n = leaf_name(s, e);
        EXPECT_EQ(n.OU, "Ops");
        o_of[e.cert.string()] = n.O;
    }
    const std::map<std::string, std::string> want{{"a/a.pem", "node"},
                                                  {"a/a-peer.pem", "node"},
                                                  {"a/a-api.pem", "node"},
                                                  {"a/a-client.pem", "node"},
                                                  {"b/b.pem", "node"},
                                                  {"b/b-peer.pem", "node"},
                                                  {"b/b-api.pem", "node"},
                                                  {"b/b-client.pem", "node"},
                                                  {"clients/admin/admin.pem", "admin"},
                                                  {"clients/agent-1/agent-1.pem", "agent"},
                                                  {"clients/agent-2/agent-2.pem", "agent"},
                                                  {"clients/monitor/monitor.pem", "reader"}};
    EXPECT_EQ(o_of, want);
}

TEST(CertTable, LayoutsDecideWhichKindsExist) {
    auto kinds = [](const std::string& text) {
        std::set<CertKind> out;
        for (const auto& e : spec_certificates(spec_of(text))) out.insert(e.kind->kind);
        return out;
    };
    EXPECT_TRUE(kinds(spec_text("insecure", "separate", "embedded")).empty());
    EXPECT_EQ(kinds(spec_text("peer-mtls", "separate", "embedded")),
              (std::set<CertKind>{CertKind::PeerCa, CertKind::NodePeer}));
    EXPECT_EQ(kinds(spec_text("peer-mtls", "shared", "embedded")),
              (std::set<CertKind>{CertKind::ClientCa, CertKind::NodeServer}));
    EXPECT_EQ(kinds(spec_text("client-cert-auth", "separate", "external")),
              (std::set<CertKind>{CertKind::ClientCa, CertKind::NodeServer, CertKind::ApiServer, CertKind::NodeClient,
                                  CertKind::Admin, CertKind::Agent}));
}

TEST(CertTable, FindsWhatProvisioningWroteWithoutTheSpec) {
    testing::TempDir tmp;
    const Spec s = spec_of(spec_text("full", "separate", "external"));
    provision(s, tmp.path(), {});
    std::vector<std::string> want = paths_of(spec_certificates(s)), found = paths_of(find_certificates(tmp.path()));
    std::sort(want.begin(), want.end());
    EXPECT_EQ(found, want);
    for (const auto& e : find_certificates(tmp.path())) {
        EXPECT_TRUE(fs::exists(tmp / e.key)) << e.key;
        if (!e.kind->is_ca()) {
            EXPECT_TRUE(fs::exists(tmp / e.issuer_cert)) << e.issuer_cert;
        }
    }
    EXPECT_TRUE(find_certificates(tmp / "nowhere").empty());
}

TEST(NodeHosts, AddressNamesLoopbackFoldedOnce) {
    EXPECT_EQ(node_hosts(NodeSpec{"n", "127.0.0.1", {"n", "x.test"}, {}, 0}),
              (std::vector<std::string>{"127.0.0.1", "n", "x.test", "::1"}));
}

}  // namespace
}  // namespace trellis::cluster
