// Golden tests of what trellisctl prints, rendered from fixed API answers (tests/data/api/);
// the answers' decoding itself is tested with libtrellis/api.
#include "views.hpp"

#include <gtest/gtest.h>

#include <yaml-cpp/yaml.h>

#include "core/error.hpp"
#include "golden.hpp"

using trellis::api::Health;
using trellis::api::Json;
using trellis::api::MembersAnswer;

namespace trellis::ctl {
namespace {

using testing::expect_golden;
using testing::fixture;

Json doc(const std::string& name) { return Json::parse(fixture(name)); }
Health health(const std::string& name) { return api::decode_health(doc(name), "u"); }
MembersAnswer members(const std::string& name) { return api::decode_members(doc(name), "u"); }

TEST(HealthView, DegradedClusterAsTheGuideShowsIt) {
    const Health h = health("health-degraded.json");
    ASSERT_EQ(h.members.size(), 3u);
    EXPECT_EQ(h.members[0].id, 11758493324880812756ULL);
    EXPECT_EQ(api::problems(h),
              "backend-2 (c3d9f4b8d0dd1ac9) unhealthy: dial tcp 10.0.0.2:2379: connect: connection refused");
    expect_golden("health-degraded.txt", health_table(h));
}

TEST(HealthView, HealthyClusterIsOk) {
    const Health h = health("health-ok.json");
    EXPECT_EQ(api::problems(h), "");
    expect_golden("health-ok.txt", health_table(h));
}

TEST(HealthView, AlarmsGetTheirOwnTableAndMakeItNotOk) {
    const Health h = health("health-alarm.json");
    EXPECT_EQ(api::problems(h), "alarm NOSPACE on member c8f63ae435a5e6bf");
    expect_golden("health-alarm.txt", health_table(h));
}

TEST(HealthView, NoQuorumShowsTheBackendsError) {
    const Health h = health("health-no-quorum.json");
    EXPECT_EQ(api::problems(h), "no etcd member answered within 3s");
    expect_golden("health-no-quorum.txt", health_table(h));
}

TEST(HealthView, JsonKeepsSixtyFourBitIdsExact) {
    const std::string out = render_document(doc("health-degraded.json"), Format::Json);
    expect_golden("health-degraded.json", out);
    // The exact decimal of a32e8f613b529ad4 (above 2^63) and its hex, not a rounded double.
    EXPECT_NE(out.find("\"MemberID\": 11758493324880812756"), std::string::npos);
    EXPECT_NE(out.find("\"MemberIDHex\": \"a32e8f613b529ad4\""), std::string::npos);
    EXPECT_EQ(Json::parse(out)["ClusterHealth"][0]["MemberID"].get<std::uint64_t>(), 11758493324880812756ULL);
}

TEST(HealthView, YamlKeepsIdsExactAndHexAsStrings) {
    const std::string out = render_document(doc("health-degraded.json"), Format::Yaml);
    expect_golden("health-degraded.yaml", out);
    const YAML::Node y = YAML::Load(out);
    EXPECT_EQ(y["ClusterHealth"][0]["MemberID"].as<std::uint64_t>(), 11758493324880812756ULL);
    EXPECT_EQ(y["Header"]["cluster_id"].as<std::uint64_t>(), 0x3b0efc7b379f89beULL);
    EXPECT_EQ(y["ClusterHealth"][0]["MemberIDHex"].as<std::string>(), "a32e8f613b529ad4");
    EXPECT_EQ(y["ClusterHealth"][1]["Healthy"].as<bool>(), false);
}

TEST(MemberListView, TableAsTheGuideShowsIt) {
    const MembersAnswer a = members("member-list.json");
    ASSERT_EQ(a.members.size(), 4u);
    EXPECT_FALSE(a.member.has_value());
    expect_golden("member-list.txt", member_list_table(a));
    expect_golden("member-list.json", render_document(doc("member-list.json"), Format::Json));
}

TEST(MemberAddView, PrintsTheEnvironmentLinesOfTheGuide) {
    const MembersAnswer a = members("member-add.json");
    ASSERT_TRUE(a.member.has_value());
    const AddEnvironment env = add_environment(a, "backend-4");
    EXPECT_EQ(env.initial_cluster,
              "backend-4=https://10.0.0.4:2380,backend-1=https://10.0.0.1:2380,backend-2=https://10.0.0.2:2380,"
              "backend-3=https://10.0.0.3:2380");
    expect_golden("member-add.txt", member_added_text(a, "backend-4"));
}

TEST(MemberChangeViews, RemoveAndUpdateLines) {
    expect_golden("member-remove.txt", member_removed_text(0x2f7ae42c315f8c2dULL));
    expect_golden("member-update.txt", member_updated_text(0xc8f63ae435a5e6bfULL));
    EXPECT_EQ(members("member-remove.json").members.size(), 3u);
    EXPECT_EQ(members("member-update.json").members[2].peer_urls, std::vector<std::string>{"https://10.0.0.4:2380"});
}

// sensuctl prints IDs with Go's %x: no leading zeros (cli/commands/cluster/member-*.go).
TEST(MemberChangeViews, IdsArePrintedAsSensuctlDoes) {
    EXPECT_EQ(member_removed_text(0x0123456789abcdefULL), "Removed member 123456789abcdef from cluster\n");
    EXPECT_EQ(member_updated_text(0x4d2), "Updated member with ID 4d2 in cluster\n");
    api::MembersAnswer a;
    a.member = api::Member{0x00f0, "", {"https://10.0.0.4:2380"}, {}, false};
    a.members = {*a.member};
    EXPECT_EQ(member_added_text(a, "backend-4").substr(0, 28), "added member f0 to cluster\n\n");
}

TEST(Formats, OnlyTableJsonYaml) {
    EXPECT_EQ(parse_format("table"), Format::Table);
    EXPECT_EQ(parse_format("json"), Format::Json);
    EXPECT_EQ(parse_format("yaml"), Format::Yaml);
    EXPECT_THROW(parse_format("xml"), Error);
    EXPECT_THROW(parse_format("JSON"), Error);
}

}  // namespace
}  // namespace trellis::ctl
