// member-replace's quorum rule and the wait for etcd's strict reconfiguration check, as pure logic.
#include "member_replace.hpp"

#include <gtest/gtest.h>

#include "code_of.hpp"
#include "reconfig.hpp"

namespace trellis::ctl {
namespace {

api::Health health_of(std::initializer_list<bool> healthy) {
    api::Health h;
    std::uint64_t id = 1;
    for (const bool ok : healthy) h.members.push_back({id++, "backend-" + std::to_string(id - 1), "", ok});
    return h;
}

using testing::code_of;

TEST(MemberReplace, ADeadMemberOfThreeIsReplaceableAndALiveOneIsNot) {
    EXPECT_EQ(code_of([] { check_replaceable(health_of({true, true, false}), 3, "backend-3"); }), Code::Internal);
    EXPECT_EQ(code_of([] {
                  check_replaceable(health_of({true, true, true}), 3, "backend-3");
              }),
              Code::InputInvalidValue);
}

TEST(MemberReplace, RefusedWhenTheRestWouldLackAQuorum) {
    // 3 members, 2 dead: the one healthy of the remaining 2 is not a quorum of 2.
    EXPECT_EQ(code_of([] {
                  check_replaceable(health_of({true, false, false}), 3, "backend-3");
              }),
              Code::StoreUnavailable);
    // 5 members, 2 dead: 3 healthy of the remaining 4 is a quorum (3).
    EXPECT_EQ(code_of([] {
                  check_replaceable(health_of({true, true, true, false, false}), 5, "backend-5");
              }),
              Code::Internal);
    // 4 members, 2 dead: 2 healthy of the remaining 3 is a quorum (2).
    EXPECT_EQ(code_of([] {
                  check_replaceable(health_of({true, true, false, false}), 4, "backend-4");
              }),
              Code::Internal);
}

TEST(Reconfig, OnlyEtcdsStrictCheckIsWaitedOutAndWithinTheBound) {
    const Response refused{409, R"({"code":15002,"message":"x: etcdserver: unhealthy cluster"})", "u"};
    const Response duplicate{409, R"({"code":15002,"message":"x: etcdserver: Peer URLs already exists"})", "u"};
    EXPECT_TRUE(is_unhealthy_cluster(refused));
    EXPECT_FALSE(is_unhealthy_cluster(duplicate));

    int calls = 0;
    std::vector<std::string> notes;
    const auto note = [&](const std::string& n) { notes.push_back(n); };
    Response r = send_waiting_out_unhealthy(
        [&] {
            return ++calls < 3 ? refused : Response{201, "{}", "u"};
        },
        std::chrono::seconds(10), note);
    EXPECT_EQ(r.status, 201);
    EXPECT_EQ(calls, 3);
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_NE(notes[0].find("connected to every voting member for 5 s"), std::string::npos) << notes[0];

    calls = 0;
    r = send_waiting_out_unhealthy([&] { return ++calls, duplicate; }, std::chrono::seconds(10), note);
    EXPECT_EQ(calls, 1);
    r = send_waiting_out_unhealthy([&] { return ++calls, refused; }, std::chrono::seconds(0), note);
    EXPECT_EQ(calls, 2);
    EXPECT_EQ(r.status, 409);
}

}  // namespace
}  // namespace trellis::ctl
