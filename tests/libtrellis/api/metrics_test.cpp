// GET /metrics' text: every family with its HELP and TYPE, the facts as samples, label values escaped,
// and a bounded label set whatever paths and methods a client sends.
#include "api/metrics.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <sstream>

#include "golden_files.hpp"
#include "support.hpp"

namespace trellis::api {
namespace {

using std::chrono::system_clock;

MetricsFacts three_members() {
    MetricsFacts f;
    f.health.members = {{0x1111, "backend-1", "", true},
                        {0x2222, "backend-2", "", true},
                        {0x3333, "backend-3", "dial tcp 127.0.0.13:2379: connect: connection refused", false}};
    f.health.alarms = {{0x2222, "NOSPACE"}};
    store::Status s;
    s.header.member_id = 0x1111;
    s.leader = 0x1111;
    s.raft_term = 7;
    s.raft_index = 1234;
    s.db_size = 20480;
    f.local = s;
    f.etcd_up = true;
    f.etcd_restarts = 2;
    f.requests = {{"GET", "/health", 200, 41}, {"DELETE", "/api/core/v2/cluster/members/:id", 403, 1}};
    f.certificates = {{"cert-file", "/etc/trellis/backend-1.pem", "CN=backend-1,O=node", "4660",
                       system_clock::from_time_t(1830297600)}};
    return f;
}

TEST(Metrics, TextMatchesTheGoldenDocument) {
    trellis::testing::expect_golden(trellis::testing::data_path("api/metrics.txt"), metrics_text(three_members()));
}

TEST(Metrics, SamplesCarryTheFacts) {
    const std::string text = metrics_text(three_members());
    for (const std::string line : {
             "trellis_cluster_healthy 0\n",  // one member down and an alarm
             "trellis_member_healthy{member=\"backend-1\",id=\"1111\"} 1\n",
             "trellis_member_healthy{member=\"backend-3\",id=\"3333\"} 0\n",
             "trellis_etcd_alarm{id=\"2222\",alarm=\"NOSPACE\"} 1\n",
             "trellis_etcd_is_leader 1\n",
             "trellis_etcd_raft_term 7\n",
             "trellis_etcd_restarts_total 2\n",
             "trellis_api_requests_total{method=\"GET\",route=\"/health\",code=\"200\"} 41\n",
             "trellis_certificate_not_after_seconds{key=\"cert-file\",file=\"/etc/trellis/backend-1.pem\","
             "subject=\"CN=backend-1,O=node\",serial=\"4660\"} 1830297600\n",
         })
        EXPECT_NE(text.find(line), std::string::npos) << line << "in:\n" << text;
}

// Every line is a comment (# HELP / # TYPE) or a sample as the exposition format defines it.
TEST(Metrics, EveryLineFollowsTheExpositionFormat) {
    MetricsFacts f = three_members();
    f.certificates.push_back({"etcd-cert-file", "/tmp/a \"quoted\"\\dir/x.pem", "CN=line\nbreak", "1", {}});
    const std::regex sample(
        R"re([a-z_]+(\{[a-z_]+="([^"\\\n]|\\[\\"n])*"(,[a-z_]+="([^"\\\n]|\\[\\"n])*")*\})? -?[0-9]+)re");
    const std::regex comment(R"re(# (HELP|TYPE) [a-z_]+ .+)re");
    std::istringstream in(metrics_text(f));
    int samples = 0;
    for (std::string line; std::getline(in, line);) {
        if (std::regex_match(line, comment)) continue;
        EXPECT_TRUE(std::regex_match(line, sample)) << line;
        ++samples;
    }
    EXPECT_EQ(samples, 16);
    EXPECT_NE(metrics_text(f).find(R"(file="/tmp/a \"quoted\"\\dir/x.pem",subject="CN=line\nbreak",serial="1"})"),
              std::string::npos);
}

TEST(Metrics, NoEtcdOfItsOwnLeavesTheEtcdFamiliesOut) {
    MetricsFacts f = three_members();
    f.local.reset();
    f.etcd_up.reset();
    const std::string text = metrics_text(f);
    EXPECT_EQ(text.find("trellis_etcd_up"), std::string::npos);
    EXPECT_EQ(text.find("trellis_etcd_raft_term"), std::string::npos);
    EXPECT_NE(text.find("trellis_member_healthy"), std::string::npos);
}

TEST(Metrics, RoutesAndMethodsAreABoundedSet) {
    EXPECT_EQ(metrics_route("/health"), "/health");
    EXPECT_EQ(metrics_route("/api/core/v2/cluster/members"), "/api/core/v2/cluster/members");
    EXPECT_EQ(metrics_route("/api/core/v2/cluster/members/8e9e05c52164694d"), "/api/core/v2/cluster/members/:id");
    EXPECT_EQ(metrics_route("/api/core/v2/cluster/members/a/b"), "other");
    EXPECT_EQ(metrics_route("/api/core/v2/cluster/members/"), "other");
    EXPECT_EQ(metrics_route("/wp-login.php"), "other");
    EXPECT_EQ(metrics_route("/metrics"), "/metrics");
    EXPECT_EQ(metrics_method("DELETE"), "DELETE");
    EXPECT_EQ(metrics_method("BREW"), "other");
}

}  // namespace
}  // namespace trellis::api
