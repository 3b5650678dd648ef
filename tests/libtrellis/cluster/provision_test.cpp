#include "cluster/provision.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/obj_mac.h>

#include "core/files.hpp"
#include "pki/verify.hpp"
#include "support.hpp"

namespace trellis::cluster {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;
using trellis::testing::TempDir;

Spec spec_of(const std::string& text) {
    Warnings w;
    return load_spec(text, "spec.yml", w);
}

pki::Certificate cert_at(const fs::path& p) { return pki::Certificate::from_pem(read_file(p), p.string()); }

bool verifies(const pki::Certificate& leaf, const pki::Certificate& root, pki::Purpose purpose) {
    pki::VerifyRequest r{leaf, {}, {root}, purpose, std::nullopt, std::nullopt};
    const bool a = pki::verify_with_openssl(r).ok, b = pki::verify_with_botan(r).ok;
    EXPECT_EQ(a, b) << "OpenSSL and Botan disagree on " << leaf.common_name();
    return a && b;
}

const std::string kThree =
    "cluster: {name: p}\nnodes:\n  - {name: a, address: 127.0.0.51, names: [a.example.test]}\n"
    "  - {name: b, address: 127.0.0.52}\n  - {name: c, address: 127.0.0.53}\nclients:\n  - name: admin\n";

TEST(Provision, CertificatesHaveTheRightShape) {
    TempDir tmp;
    const Spec s = spec_of(kThree);
    const auto r = provision(s, tmp.path(), {});
    EXPECT_TRUE(r.changed);
    EXPECT_EQ(r.certificates_issued, 10u);  // 3 x (server, peer, API) + admin
    const auto ca = cert_at(tmp / "ca/ca.pem"), peer_ca = cert_at(tmp / "ca/peer-ca.pem");
    EXPECT_TRUE(ca.is_ca());
    EXPECT_TRUE(peer_ca.is_ca());
    EXPECT_EQ(ca.common_name(), "Trellis CA");
    EXPECT_EQ(peer_ca.common_name(), "Trellis CA (peers)");

    const auto server = cert_at(tmp / "a/a.pem");
    EXPECT_THAT(server.ip_addresses(), UnorderedElementsAre("127.0.0.51", "127.0.0.1", "::1"));
    EXPECT_THAT(server.dns_names(), UnorderedElementsAre("a.example.test", "a"));
    EXPECT_TRUE(server.has_ext_key_usage(NID_server_auth));
    EXPECT_TRUE(server.has_ext_key_usage(NID_client_auth));  // etcd's gateway dials back with it
    EXPECT_TRUE(server.matches(pki::PrivateKey::from_pem(read_file(tmp / "a/a-key.pem"), "key")));
    EXPECT_TRUE(verifies(server, ca, pki::Purpose::ServerAuth));
    EXPECT_FALSE(verifies(server, peer_ca, pki::Purpose::Any));

    const auto peer = cert_at(tmp / "a/a-peer.pem");
    EXPECT_TRUE(peer.covers_host("127.0.0.1"));
    EXPECT_TRUE(peer.has_ext_key_usage(NID_server_auth) && peer.has_ext_key_usage(NID_client_auth));
    EXPECT_TRUE(verifies(peer, peer_ca, pki::Purpose::ClientAuth));
    EXPECT_FALSE(verifies(peer, ca, pki::Purpose::Any));

    const auto admin = cert_at(tmp / "clients/admin/admin.pem");
    EXPECT_EQ(admin.common_name(), "admin");
    // Roles (the API authorizes by them): O is the role, nothing else.
    EXPECT_EQ(admin.organizations(), std::vector<std::string>{"admin"});
    EXPECT_EQ(server.organizations(), std::vector<std::string>{"node"});
    EXPECT_EQ(peer.organizations(), std::vector<std::string>{"node"});
    EXPECT_EQ(cert_at(tmp / "a/a-api.pem").organizations(), std::vector<std::string>{"node"});
    EXPECT_FALSE(admin.has_ext_key_usage(NID_server_auth));
    EXPECT_TRUE(admin.has_ext_key_usage(NID_client_auth));
    EXPECT_TRUE(verifies(admin, ca, pki::Purpose::ClientAuth));
    // A client certificate cannot pass as a peer: the peer port trusts only the peer CA.
    EXPECT_FALSE(verifies(admin, peer_ca, pki::Purpose::ClientAuth));
    EXPECT_EQ(read_file(tmp / "b/ca.pem"), read_file(tmp / "ca/ca.pem"));
}

TEST(Provision, SharedCaIsTheGuidesSingleCaAndOneNodeCert) {
    TempDir tmp;
    const Spec s = spec_of(
        "cluster: {name: g}\nca: shared\npki: {leaf: {key: {algo: rsa, size: 2048}}, ca: {key: {algo: rsa, size: "
        "2048}}}\n"
        "nodes:\n  - {name: a, address: 10.0.0.1}\n");
    const auto r = provision(s, tmp.path(), {});
    EXPECT_EQ(r.certificates_issued, 2u);  // server (and peer), API
    EXPECT_FALSE(fs::exists(tmp / "ca/peer-ca.pem"));
    EXPECT_FALSE(fs::exists(tmp / "a/a-peer.pem"));
    const auto c = cert_at(tmp / "a/a.pem");
    EXPECT_TRUE(verifies(c, cert_at(tmp / "ca/ca.pem"), pki::Purpose::ServerAuth));
    EXPECT_EQ(pki::PrivateKey::from_pem(read_file(tmp / "a/a-key.pem"), "k").describe().size, 2048);
}

TEST(Provision, RenewsOnlyWithinTheRenewalWindowAndNeverTheCa) {
    TempDir tmp;
    const Spec s = spec_of(kThree);
    ASSERT_TRUE(provision(s, tmp.path(), {}).changed);
    const std::string ca = read_file(tmp / "ca/ca-key.pem");
    ProvisionOptions later;
    later.plan.now = pki::Clock::now() + std::chrono::hours(8760 - 1000);  // 1000h left: outside 720h
    EXPECT_FALSE(provision(s, tmp.path(), later).changed);
    later.plan.now = pki::Clock::now() + std::chrono::hours(8760 - 100);  // 100h left: renew
    const auto r = provision(s, tmp.path(), later);
    EXPECT_TRUE(r.changed);
    EXPECT_EQ(r.certificates_issued, 10u);  // 3 x (server, peer, API) + admin
    bool saw_reason = false;
    for (const auto& f : r.files) saw_reason |= f.reason.find("within renew-before 720h") != std::string::npos;
    EXPECT_TRUE(saw_reason);
    EXPECT_EQ(read_file(tmp / "ca/ca-key.pem"), ca);
}

TEST(Provision, ExistingFilesWithWrongModeAreFixed) {
    TempDir tmp;
    const Spec s = spec_of(kThree);
    provision(s, tmp.path(), {});
    fs::permissions(tmp / "b/b-key.pem", fs::perms(0644));
    const auto r = provision(s, tmp.path(), {});
    EXPECT_TRUE(r.changed);
    EXPECT_EQ(r.certificates_issued, 0u);
    EXPECT_EQ(fs::status(tmp / "b/b-key.pem").permissions() & fs::perms::all, fs::perms(0600));
}

TEST(Provision, StrayCaKeyInANodeFolderIsReported) {
    TempDir tmp;
    const Spec s = spec_of(kThree);
    provision(s, tmp.path(), {});
    fs::copy_file(tmp / "ca/ca-key.pem", tmp / "c/ca-key.pem");
    const auto r = provision(s, tmp.path(), {});
    EXPECT_THAT(r.warnings, ::testing::Contains(HasSubstr("a CA key in a node's folder")));
}

TEST(Provision, SevenNodesAndAThousandAgentsInOneRun) {
    TempDir tmp;
    std::string text = "cluster: {name: big}\nnodes:\n";
    for (int i = 1; i <= 7; ++i)
        text += "  - {name: node-" + std::to_string(i) + ", address: 10.7.0." + std::to_string(i) + "}\n";
    text += "clients:\n  - name: admin\n  - {name: agent, count: 1000}\n";
    const Spec s = spec_of(text);
    size_t last_done = 0, calls = 0;
    ProvisionOptions o;
    o.progress = [&](size_t done, size_t total) {
        EXPECT_EQ(total, 7u * 3 + 1001);
        EXPECT_GE(done, last_done);
        last_done = done;
        ++calls;
    };
    const auto r = provision(s, tmp.path(), o);
    EXPECT_EQ(r.certificates_issued, 7u * 3 + 1001);
    EXPECT_EQ(last_done, r.certificates_issued);
    EXPECT_GE(calls, 1u);
    const auto ca = cert_at(tmp / "ca/ca.pem");
    std::set<std::string> serials;
    for (int i : {1, 500, 1000}) {
        const auto agent =
            cert_at(tmp / ("clients/agent-" + std::to_string(i) + "/agent-" + std::to_string(i) + ".pem"));
        EXPECT_EQ(agent.common_name(), "agent-" + std::to_string(i));
        EXPECT_TRUE(verifies(agent, ca, pki::Purpose::ClientAuth));
        serials.insert(agent.serial_decimal());
    }
    EXPECT_EQ(serials.size(), 3u);
    for (int i = 1; i <= 7; ++i) {
        const auto c =
            BackendConfig::from_yaml(read_file(tmp / ("node-" + std::to_string(i) + "/backend.yml")), "backend.yml");
        EXPECT_EQ(c.get_list(Key::EtcdInitialCluster).size(), 7u);
    }
    // Idempotent at scale too.
    const auto again = provision(s, tmp.path(), {});
    EXPECT_FALSE(again.changed);
    EXPECT_EQ(again.files.size(), r.files.size());
}

TEST(Provision, InsecureLayoutIssuesNothing) {
    TempDir tmp;
    const Spec s = spec_of("cluster: {name: i}\nsecurity: insecure\nnodes:\n  - {name: a, address: 10.0.0.1}\n");
    const auto r = provision(s, tmp.path(), {});
    EXPECT_EQ(r.certificates_issued, 0u);
    EXPECT_FALSE(fs::exists(tmp / "ca"));
    EXPECT_TRUE(fs::exists(tmp / "a/backend.yml"));
}

TEST(Provision, JsonSummary) {
    TempDir tmp;
    const auto r = provision(spec_of(kThree), tmp.path(), [] {
        ProvisionOptions o;
        o.check = true;
        return o;
    }());
    EXPECT_THAT(r.to_json(), HasSubstr("\"changed\":true"));
    EXPECT_THAT(r.to_json(), HasSubstr("{\"action\":\"create\",\"path\":\"a/a.pem\",\"reason\":\"new CA\"}"));
    EXPECT_FALSE(fs::exists(tmp / "a"));
}

}  // namespace
}  // namespace trellis::cluster
