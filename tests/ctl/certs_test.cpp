// `trellisctl cluster certs` without a cluster: which ports are probed for which member, and how
// what they served is shown (table and JSON, golden files).
#include "certs.hpp"

#include <gtest/gtest.h>

#include "golden.hpp"

namespace trellis::ctl {
namespace {

api::MembersAnswer three_members() {
    api::MembersAnswer a;
    for (int i = 1; i <= 3; ++i) {
        const std::string ip = "127.0.0.1" + std::to_string(i);
        a.members.push_back({static_cast<std::uint64_t>(i),
                             "backend-" + std::to_string(i),
                             {"https://" + ip + ":2380"},
                             {"https://" + ip + ":2379"},
                             false});
    }
    return a;
}

TEST(CertProbes, ClientPeerAndTheApiUrlOnTheMembersHost) {
    const auto probes = cert_probes(three_members(), {"https://127.0.0.12:8080", "https://127.0.0.11:8080"});
    ASSERT_EQ(probes.size(), 9u);
    EXPECT_EQ(probes[0].url, "https://127.0.0.11:2379");
    EXPECT_EQ(probes[0].port, "client");
    EXPECT_EQ(probes[1].url, "https://127.0.0.11:2380");
    EXPECT_EQ(probes[1].port, "peer");
    EXPECT_EQ(probes[2].url, "https://127.0.0.11:8080");
    EXPECT_EQ(probes[2].port, "api");
    EXPECT_EQ(probes[5].url, "https://127.0.0.12:8080");
    // No --url on backend-3's host: its API row says so instead of probing something else.
    EXPECT_EQ(probes[8].url, "");
    EXPECT_NE(probes[8].error.find("no --url names this member's host"), std::string::npos);
}

TEST(CertProbes, AMemberNotStartedHasNoClientUrl) {
    api::MembersAnswer a = three_members();
    a.members[2].client_urls.clear();
    const auto probes = cert_probes(a, {});
    EXPECT_EQ(probes[6].url, "");
    EXPECT_NE(probes[6].error.find("no client URL"), std::string::npos);
}

std::vector<ServedCert> served_fixture() {
    const auto probes = cert_probes(three_members(), {"https://127.0.0.11:8080"});
    std::vector<ServedCert> out;
    for (const auto& p : probes) {
        ServedCert s{p,
                     "CN=" + p.node + ",O=Trellis",
                     "1234" + std::to_string(out.size()),
                     "CN=Trellis CA,O=Trellis",
                     "2027-12-02T04:10:14Z",
                     false,
                     p.error};
        out.push_back(s);
    }
    out[3].expired = true;
    out[3].not_after = "2026-01-01T00:00:00Z";
    out[4].error = "dial tcp 127.0.0.12:2380: connect: connection refused";
    return out;
}

TEST(ServedView, TableAndJson) {
    const auto served = served_fixture();
    testing::expect_golden("certs.txt", served_table(served));
    testing::expect_golden("certs.json", served_json(served).dump(2) + "\n");
    const auto doc = served_json(served);
    EXPECT_EQ(doc["Certificates"][3]["Expired"], true);
    EXPECT_FALSE(doc["Certificates"][4].contains("Serial"));
    EXPECT_EQ(doc["Certificates"][4]["Error"], "dial tcp 127.0.0.12:2380: connect: connection refused");
}

}  // namespace
}  // namespace trellis::ctl
