// The API's wire types: what trellis-backend encodes, trellisctl decodes to the same values, and
// documents that do not have the documented shape are named errors.
#include "api/wire.hpp"

#include <gtest/gtest.h>

#include <functional>

#include "support.hpp"

namespace trellis::api {
namespace {

std::string text(const std::string& name) {
    return trellis::testing::slurp(trellis::testing::data_path("api/" + name));
}
Json fixture(const std::string& name) { return Json::parse(text(name)); }

// Sensu's documented answers (tests/data/api/sensu/README.md) decode, and encode back byte for byte in
// Go's MarshalIndent layout: the same members, order, omissions and exact 64-bit numbers.
TEST(Sensu, DocumentedMemberListRoundTripsExactly) {
    const std::string doc = text("sensu/member-list.json");
    const MembersAnswer a = decode_members(Json::parse(doc), "u");
    ASSERT_EQ(a.members.size(), 1u);
    EXPECT_EQ(a.members[0].id, 9882886658148554927ULL);
    EXPECT_EQ(a.header.cluster_id, 4255616304056076734ULL);
    EXPECT_EQ(encode(a).dump(2) + "\n", doc);
}

TEST(Sensu, DocumentedHealthRoundTripsExactly) {
    for (const std::string name : {"sensu/health-healthy.json", "sensu/health-unhealthy.json"}) {
        const std::string doc = text(name);
        const Health h = decode_health(Json::parse(doc), "u");
        ASSERT_EQ(h.members.size(), 3u) << name;
        EXPECT_EQ(h.members[0].id, 0x88db026f7feb72b4ULL);
        EXPECT_EQ(h.members[2].id, 0xbc4e39432cbb36dULL);
        EXPECT_TRUE(h.alarms.empty());
        EXPECT_EQ(encode(h).dump(2) + "\n", doc) << name;
    }
    EXPECT_EQ(problems(decode_health(fixture("sensu/health-unhealthy.json"), "u")),
              "backend01 (88db026f7feb72b4) unhealthy: context deadline exceeded");
}

// IDs above 2^63 do not fit a double or an int64: they must survive both directions exactly.
constexpr std::uint64_t kBig = 11758493324880812756ULL;

MembersAnswer sample_add() {
    MembersAnswer a;
    a.header = {0x3b0efc7b379f89beULL, kBig, 0, 2};
    a.member = Member{0x2f7ae42c315f8c2dULL, "", {"https://10.0.0.4:2380"}, {}, false};
    a.members = {*a.member, Member{kBig, "backend-1", {"https://10.0.0.1:2380"}, {"https://10.0.0.1:2379"}, false}};
    return a;
}

TEST(Members, EncodeThenDecodeGivesTheSameValues) {
    const MembersAnswer a = sample_add();
    const MembersAnswer b = decode_members(Json::parse(encode(a).dump()), "u");
    EXPECT_EQ(b.header.cluster_id, a.header.cluster_id);
    ASSERT_TRUE(b.member.has_value());
    EXPECT_EQ(b.member->id, a.member->id);
    EXPECT_EQ(b.member->peer_urls, a.member->peer_urls);
    ASSERT_EQ(b.members.size(), 2u);
    EXPECT_EQ(b.members[1].id, kBig);
    EXPECT_EQ(b.members[1].name, "backend-1");
    EXPECT_EQ(b.members[1].client_urls, a.members[1].client_urls);
}

TEST(Members, ListHasNoNewMember) {
    const store::MemberList list{{1, 2, 0, 3}, sample_add().members};
    const MembersAnswer a = members_answer(list);
    EXPECT_FALSE(a.member.has_value());
    EXPECT_FALSE(decode_members(encode(a), "u").member.has_value());
}

TEST(Members, FixturesDecode) {
    const MembersAnswer a = decode_members(fixture("member-add.json"), "u");
    ASSERT_TRUE(a.member.has_value());
    EXPECT_EQ(a.member->id, 0x2f7ae42c315f8c2dULL);
    EXPECT_EQ(a.members.size(), 4u);
    EXPECT_EQ(decode_members(fixture("member-list.json"), "u").header.cluster_id, 0x3b0efc7b379f89beULL);
}

TEST(Health, EncodeThenDecodeGivesTheSameValues) {
    Health h;
    h.header.cluster_id = 7;
    h.members = {{kBig, "backend-1", "", true}, {5, "backend-2", "dial tcp: refused", false}};
    h.alarms = {{5, "NOSPACE"}};
    const Health back = decode_health(Json::parse(encode(h).dump()), "u");
    EXPECT_EQ(back.header.cluster_id, 7u);
    ASSERT_EQ(back.members.size(), 2u);
    EXPECT_EQ(back.members[0].id, kBig);
    EXPECT_EQ(back.members[1].error, "dial tcp: refused");
    EXPECT_FALSE(back.members[1].healthy);
    ASSERT_EQ(back.alarms.size(), 1u);
    EXPECT_EQ(back.alarms[0].alarm, "NOSPACE");
    EXPECT_EQ(problems(back), "backend-2 (5) unhealthy: dial tcp: refused; alarm NOSPACE on member 5");
}

// Go's encoding/json of etcdserverpb types: omitempty drops zero IDs, empty names and lists and false;
// an alarm's type is the enum's number.
TEST(Members, EmptyFieldsAreLeftOutAsGoDoes) {
    MembersAnswer a;
    a.header = {7, 0, 0, 2};
    a.member = Member{0x2f7ae42c315f8c2dULL, "", {"https://10.0.0.4:2380"}, {}, true};
    a.members = {*a.member};
    EXPECT_EQ(encode(a).dump(),
              R"({"header":{"cluster_id":7,"raft_term":2},"member":{"ID":3421297745399352365,"peerURLs":)"
              R"(["https://10.0.0.4:2380"],"isLearner":true},"members":[{"ID":3421297745399352365,"peerURLs":)"
              R"(["https://10.0.0.4:2380"],"isLearner":true}]})");
    EXPECT_TRUE(decode_members(encode(a), "u").members[0].is_learner);
    EXPECT_EQ(encode(MembersAnswer{}).dump(), R"({"header":{}})");
}

TEST(Health, AlarmsAreEtcdsEnumNumbersAndNullWhenNone) {
    Health h;
    EXPECT_EQ(encode(h).dump(), R"({"Alarms":null,"ClusterHealth":[],"Header":{}})");
    h.alarms = {{kBig, "NOSPACE"}, {5, "CORRUPT"}, {6, "SOMETHING_NEW"}};
    EXPECT_EQ(encode(h)["Alarms"].dump(), R"([{"memberID":11758493324880812756,"alarm":1},{"memberID":5,"alarm":2},)"
                                          R"({"memberID":6,"alarm":"SOMETHING_NEW"}])");
    const Health back = decode_health(encode(h), "u");
    ASSERT_EQ(back.alarms.size(), 3u);
    EXPECT_EQ(back.alarms[0].member_id, kBig);
    EXPECT_EQ(back.alarms[0].alarm, "NOSPACE");
    EXPECT_EQ(back.alarms[1].alarm, "CORRUPT");
    EXPECT_EQ(back.alarms[2].alarm, "SOMETHING_NEW");
    EXPECT_EQ(decode_health(Json::parse(R"({"ClusterHealth":[],"Alarms":[{"alarm":9}]})"), "u").alarms[0].alarm,
              "alarm type 9");
}

TEST(Health, ProblemsOfEmptyAndUnreachable) {
    Health h;
    EXPECT_EQ(problems(h), "the backend reported no members");
    h.error = "no etcd member answered within 3s";
    EXPECT_EQ(problems(h), "no etcd member answered within 3s");
    EXPECT_EQ(decode_health(encode(h), "u").error, h.error);
}

struct BadAnswer {
    std::string body;
    std::string expected;
};

TEST(Health, UnexpectedShapesAreNamedErrors) {
    const std::vector<BadAnswer> cases{
        {R"({"ClusterHealth": 1})", "u/health: unexpected answer from the backend: ClusterHealth: expected a list"},
        {R"({"ClusterHealth": [{"MemberID": -1, "Name": "a", "Err": "", "Healthy": true}]})",
         "u/health: unexpected answer from the backend: ClusterHealth[0].MemberID: expected an unsigned 64-bit "
         "integer"},
        {R"({"ClusterHealth": [{"MemberID": 1, "MemberIDHex": "0000000000000002", "Healthy": true}]})",
         "u/health: unexpected answer from the backend: ClusterHealth[0].MemberIDHex: does not match MemberID 1"},
        {R"({"ClusterHealth": [{"MemberID": 2, "MemberIDHex": "2", "Healthy": "yes"}]})",
         "u/health: unexpected answer from the backend: ClusterHealth[0].Healthy: expected true or false"},
        {R"({"ClusterHealth": [{"Name": "a", "Healthy": true}]})",
         "u/health: unexpected answer from the backend: ClusterHealth[0].MemberID: missing"},
        {R"({"ClusterHealth": [{"MemberID": 1.5, "Healthy": true}]})",
         "u/health: unexpected answer from the backend: ClusterHealth[0].MemberID: expected an unsigned 64-bit "
         "integer"},
        {R"({"ClusterHealth": [], "Alarms": [{"memberID": 1, "alarm": true}]})",
         "u/health: unexpected answer from the backend: Alarms[0].alarm: expected an alarm type (a number, as "
         "etcd's AlarmType)"},
        {R"({"ClusterHealth": [], "Header": []})",
         "u/health: unexpected answer from the backend: Header: expected an object"},
    };
    for (const auto& c : cases) {
        try {
            decode_health(Json::parse(c.body), "u");
            ADD_FAILURE() << "no error for " << c.body;
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), Code::HttpError);
            EXPECT_EQ(std::string(e.what()), c.expected);
        }
    }
}

// What etcd's client port (or any other server) answers is named as not our API, never shown as an
// empty table.
TEST(NotOurApi, OtherServersAnswersAreNamed) {
    const auto message = [](const std::function<void()>& f) {
        try {
            f();
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), Code::HttpError);
            return std::string(e.what());
        }
        return std::string("no error");
    };
    const std::string etcd = "https://127.0.0.11:2379";
    EXPECT_EQ(message([&] { decode_health(Json::parse(R"({"health":"true","reason":""})"), etcd); }),
              etcd +
                  ": this is not a Trellis API: its answer to /health has no \"ClusterHealth\" (is the URL a "
                  "backend's API address, port 8080 by default, and not etcd's?)");
    EXPECT_EQ(message([&] { decode_members(Json::parse(R"({"members":[]})"), etcd); })
                  .rfind(etcd + ": this is not a Trellis API: its answer to /api/core/v2/cluster/members has no "
                                "\"header\"",
                         0),
              0u);
    EXPECT_EQ(message([&] { decode_members(Json::parse("[]"), etcd); }).find(": this is not a Trellis API"),
              etcd.size());
    EXPECT_EQ(message([&] { parse_json("<html>", etcd); })
                  .rfind(etcd + ": this is not a Trellis API: its answer is "
                                "not JSON",
                         0),
              0u);
}

TEST(Errors, BodyCarriesTheCodeAndMessage) {
    const Error e(Code::MemberNotFound, "member 5 not found");
    const Json body = encode(error_body(e));
    EXPECT_EQ(body.dump(), R"({"code":15004,"message":"member 5 not found"})");
    const auto back = decode_error(body.dump());
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->code, 15004);
    EXPECT_EQ(back->message, "member 5 not found");
    EXPECT_FALSE(decode_error("<html>").has_value());
    EXPECT_FALSE(decode_error(R"({"code":1})").has_value());
    EXPECT_FALSE(decode_error("").has_value());
}

TEST(Errors, StatusesFollowEtcdsVerdictThenOurCode) {
    using store::GrpcCode;
    const auto store_error = [](GrpcCode grpc, std::string reason) {
        return store::StoreError(Code::StoreRequestFailed, "u: " + reason, static_cast<int>(grpc), reason);
    };
    EXPECT_EQ(http_status_for(store_error(GrpcCode::Unavailable, "etcdserver: unhealthy cluster")), 409);
    EXPECT_EQ(http_status_for(store_error(GrpcCode::Unavailable, "etcdserver: leader changed")), 503);
    EXPECT_EQ(http_status_for(store_error(GrpcCode::NotFound, "etcdserver: member not found")), 404);
    EXPECT_EQ(http_status_for(store_error(GrpcCode::FailedPrecondition, "etcdserver: not enough")), 409);
    EXPECT_EQ(http_status_for(Error(Code::InputInvalidValue, "x")), 400);
    EXPECT_EQ(http_status_for(Error(Code::ConnectFailed, "x")), 503);
    EXPECT_EQ(http_status_for(Error(Code::Internal, "x")), 500);
}

TEST(Paths, MemberPathUsesTheHexId) {
    EXPECT_EQ(member_path(0x2f7ae42c315f8c2dULL), "/api/core/v2/cluster/members/2f7ae42c315f8c2d");
    EXPECT_EQ(member_path(0x4d2), "/api/core/v2/cluster/members/4d2");  // sensuctl's %x
}

}  // namespace
}  // namespace trellis::api
