// Golden tests of what trellisctl prints, rendered from fixed API answers (tests/data/ctl/api/).
#include "views.hpp"

#include <gtest/gtest.h>

#include <yaml-cpp/yaml.h>

#include "core/error.hpp"
#include "golden.hpp"

using nlohmann::json;

namespace trellis::ctl {
namespace {

using testing::expect_golden;
using testing::fixture;

json doc(const std::string& name) { return json::parse(fixture(name)); }

TEST(HealthView, DegradedClusterAsTheGuideShowsIt) {
    const Health h = parse_health(doc("health-degraded.json"), "https://10.0.0.1:8080");
    ASSERT_EQ(h.members.size(), 3u);
    EXPECT_EQ(h.members[0].id, 11758493324880812756ULL);
    EXPECT_FALSE(h.ok());
    EXPECT_EQ(h.problems(),
              "backend-2 (c3d9f4b8d0dd1ac9) unhealthy: dial tcp 10.0.0.2:2379: connect: connection refused");
    expect_golden("health-degraded.txt", health_table(h));
}

TEST(HealthView, HealthyClusterIsOk) {
    const Health h = parse_health(doc("health-ok.json"), "u");
    EXPECT_TRUE(h.ok());
    EXPECT_EQ(h.problems(), "");
    expect_golden("health-ok.txt", health_table(h));
}

TEST(HealthView, AlarmsGetTheirOwnTableAndMakeItNotOk) {
    const Health h = parse_health(doc("health-alarm.json"), "u");
    EXPECT_FALSE(h.ok());
    EXPECT_EQ(h.problems(), "alarm NOSPACE on member c8f63ae435a5e6bf");
    expect_golden("health-alarm.txt", health_table(h));
}

TEST(HealthView, NoQuorumShowsTheBackendsError) {
    const Health h = parse_health(doc("health-no-quorum.json"), "u");
    EXPECT_FALSE(h.ok());
    EXPECT_EQ(h.problems(), "no etcd member answered within 3s");
    expect_golden("health-no-quorum.txt", health_table(h));
}

TEST(HealthView, JsonKeepsSixtyFourBitIdsExact) {
    const std::string out = render_document(doc("health-degraded.json"), Format::Json);
    expect_golden("health-degraded.json", out);
    // The exact decimal of a32e8f613b529ad4 (above 2^63) and its hex, not a rounded double.
    EXPECT_NE(out.find("\"MemberID\": 11758493324880812756"), std::string::npos);
    EXPECT_NE(out.find("\"MemberIDHex\": \"a32e8f613b529ad4\""), std::string::npos);
    EXPECT_EQ(json::parse(out)["ClusterHealth"][0]["MemberID"].get<std::uint64_t>(), 11758493324880812756ULL);
}

TEST(HealthView, YamlKeepsIdsExactAndHexAsStrings) {
    const std::string out = render_document(doc("health-degraded.json"), Format::Yaml);
    expect_golden("health-degraded.yaml", out);
    const YAML::Node y = YAML::Load(out);
    EXPECT_EQ(y["ClusterHealth"][0]["MemberID"].as<std::uint64_t>(), 11758493324880812756ULL);
    EXPECT_EQ(y["Header"]["cluster_id_hex"].as<std::string>(), "3b0efc7b379f89be");
    EXPECT_EQ(y["ClusterHealth"][1]["Healthy"].as<bool>(), false);
}

TEST(MemberListView, TableAsTheGuideShowsIt) {
    const MembersAnswer a = parse_members(doc("member-list.json"), "u");
    ASSERT_EQ(a.members.size(), 4u);
    EXPECT_FALSE(a.added.has_value());
    EXPECT_EQ(a.cluster_id, 0x3b0efc7b379f89beULL);
    expect_golden("member-list.txt", member_list_table(a));
    expect_golden("member-list.json", render_document(doc("member-list.json"), Format::Json));
}

TEST(MemberAddView, PrintsTheEnvironmentLinesOfTheGuide) {
    const MembersAnswer a = parse_members(doc("member-add.json"), "u");
    ASSERT_TRUE(a.added.has_value());
    EXPECT_EQ(a.added->id, 0x2f7ae42c315f8c2dULL);
    const AddEnvironment env = add_environment(a, "backend-4");
    EXPECT_EQ(env.initial_cluster,
              "backend-4=https://10.0.0.4:2380,backend-1=https://10.0.0.1:2380,backend-2=https://10.0.0.2:2380,"
              "backend-3=https://10.0.0.3:2380");
    expect_golden("member-add.txt", member_added_text(a, "backend-4"));
}

TEST(MemberChangeViews, RemoveAndUpdateLines) {
    expect_golden("member-remove.txt", member_removed_text(0x2f7ae42c315f8c2dULL));
    expect_golden("member-update.txt", member_updated_text(0xc8f63ae435a5e6bfULL));
    EXPECT_EQ(parse_members(doc("member-remove.json"), "u").members.size(), 3u);
    EXPECT_EQ(parse_members(doc("member-update.json"), "u").members[2].peer_urls,
              std::vector<std::string>{"https://10.0.0.4:2380"});
}

struct BadAnswer {
    std::string body;
    std::string expected;
};

TEST(ApiAnswers, UnexpectedShapesAreNamedErrors) {
    const std::vector<BadAnswer> cases{
        {R"([1])", "u/health: unexpected answer from the backend: expected an object"},
        {R"({"ClusterHealth": 1})", "u/health: unexpected answer from the backend: ClusterHealth: expected a list"},
        {R"({"ClusterHealth": [{"MemberID": -1, "Name": "a", "Err": "", "Healthy": true}]})",
         "u/health: unexpected answer from the backend: ClusterHealth[0].MemberID: expected an unsigned 64-bit "
         "integer"},
        {R"({"ClusterHealth": [{"MemberID": 1, "MemberIDHex": "0000000000000002", "Healthy": true}]})",
         "u/health: unexpected answer from the backend: ClusterHealth[0].MemberIDHex: does not match MemberID 1"},
        {R"({"ClusterHealth": [{"MemberIDHex": "0000000000000002", "Healthy": "yes"}]})",
         "u/health: unexpected answer from the backend: ClusterHealth[0].Healthy: expected true or false"},
        {R"({"ClusterHealth": [{"Name": "a", "Healthy": true}]})",
         "u/health: unexpected answer from the backend: ClusterHealth[0].MemberID: missing"},
    };
    for (const auto& c : cases) {
        try {
            parse_health(json::parse(c.body), "u");
            ADD_FAILURE() << "no error for " << c.body;
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), Code::HttpError);
            EXPECT_EQ(std::string(e.what()), c.expected);
        }
    }
    try {
        parse_body("<html>", "https://127.0.0.11:8080");
        ADD_FAILURE() << "no error for HTML";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()).rfind("https://127.0.0.11:8080: the backend's answer is not JSON", 0), 0u);
    }
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
