// owner: in the spec -- parsed strictly, resolved against this machine's users, planned without a disk
// (who owns each file and its mode are part of the plan), rendered into the units.
#include "cluster/owner.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cluster/plan.hpp"
#include "cluster/render.hpp"
#include "plan_fixture.hpp"

namespace trellis::cluster {
namespace {

using plan_fixture::applied;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kNodes =
    "cluster: {name: p}\nnodes:\n  - {name: a, address: 10.2.0.1}\n"
    "  - {name: b, address: 10.2.0.2, owner: {user: other, group: g2}}\n"
    "  - {name: c, address: 10.2.0.3}\nclients:\n  - name: admin\n";

// A spec with owner: resolved to made-up IDs, as resolve_owners() would on some machine.
Spec owned_spec(const std::string& owner_line, uid_t uid, gid_t gid) {
    Spec s = plan_fixture::spec_of(owner_line + kNodes);
    s.owner->uid = s.owner->group_mode ? 0 : uid;
    s.owner->gid = gid;
    s.nodes[1].owner->uid = 4000;
    s.nodes[1].owner->gid = 4001;
    return s;
}

const PlannedFile& file(const Plan& plan, const std::string& path) {
    const PlannedFile* f = plan.file(path);
    if (!f) throw std::runtime_error("not planned: " + path);
    return *f;
}

TEST(Owner, ParsedStrictlyWithEveryProblemNamed) {
    const auto ok = parse_spec("owner: {user: trellis, group: tg, mode: group}\n" + kNodes, "spec.yml");
    ASSERT_TRUE(ok.errors.empty()) << ok.errors.front();
    EXPECT_EQ(ok.spec->owner->user, "trellis");
    EXPECT_EQ(ok.spec->owner->group, "tg");
    EXPECT_TRUE(ok.spec->owner->group_mode);
    EXPECT_EQ(ok.spec->owner_of(ok.spec->nodes[0])->user, "trellis");
    EXPECT_EQ(ok.spec->owner_of(ok.spec->nodes[1])->user, "other");
    EXPECT_FALSE(ok.spec->owner_of(ok.spec->nodes[1])->group_mode);
    const auto bad = parse_spec("owner: {group: g, mode: world, usr: x}\n" + kNodes, "spec.yml");
    EXPECT_THAT(bad.errors,
                ::testing::Contains(HasSubstr("spec.yml:1: owner.mode: \"world\" is not one of user, group")));
    EXPECT_THAT(bad.errors, ::testing::Contains(HasSubstr("owner.usr: unknown key \"usr\" (did you mean \"user\"?)")));
    EXPECT_THAT(bad.errors, ::testing::Contains(HasSubstr("spec.yml:1: owner.user: missing")));
    const auto name = parse_spec("owner: {user: \"a:b\"}\n" + kNodes, "spec.yml");
    EXPECT_THAT(name.errors, ::testing::Contains(HasSubstr("owner.user: \"a:b\" is not a user or group name")));
}

TEST(Owner, AnUnknownUserOrGroupIsOneLineNamingTheSpecAndField) {
    Spec s = plan_fixture::spec_of("owner: {user: no-such-trellis-user}\n" + kNodes);
    s.nodes[1].owner.reset();
    try {
        resolve_owners(s);
        FAIL() << "resolved an unknown user";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), Code::OwnerUnknown);
        EXPECT_THAT(std::string(e.what()), HasSubstr("spec.yml:1: owner.user: no user \"no-such-trellis-user\""));
        EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
    }
    Spec g = plan_fixture::spec_of("owner: {user: nobody, group: no-such-trellis-group}\n" + kNodes);
    g.nodes[1].owner.reset();
    EXPECT_THROW(resolve_owners(g), Error);
    Spec n = plan_fixture::spec_of("owner: {user: nobody, mode: group}\n" + kNodes);
    n.nodes[1].owner.reset();
    resolve_owners(n);
    EXPECT_EQ(n.owner->uid, 0u);  // mode: group: root owns, the group reads
    EXPECT_EQ(n.owner->gid, 65534u);
}

TEST(Owner, EveryFileOfANodesFolderIsItsUsersAndKeysStay0600) {
    const Spec s = owned_spec("owner: {user: trellis}\n", 3000, 3001);
    const Plan plan = make_plan(s, {}, {});
    for (const auto& f : plan.files) {
        const std::string top = f.path.begin()->string();
        const FileOwner want = top == "a" || top == "c" ? FileOwner{3000, 3001}
                               : top == "b"             ? FileOwner{4000, 4001}
                                                        : FileOwner{};
        EXPECT_EQ(f.owner, want) << f.path;
    }
    EXPECT_EQ(file(plan, "a/a-key.pem").mode, kSecretMode);
    EXPECT_EQ(file(plan, "a/backend.yml").mode, kPublicMode);
    EXPECT_EQ(file(plan, "ca/ca-key.pem").owner, FileOwner{});  // the CA key never leaves root
}

TEST(Owner, GroupModeGivesKeys0640ToRootAndTheGroup) {
    const Spec s = owned_spec("owner: {user: trellis, group: tg, mode: group}\n", 3000, 3001);
    const Plan plan = make_plan(s, {}, {});
    EXPECT_EQ(file(plan, "a/a-key.pem").mode, kGroupSecretMode);
    EXPECT_EQ(file(plan, "a/a-key.pem").owner, (FileOwner{0, 3001}));
    EXPECT_EQ(file(plan, "a/a.pem").mode, kPublicMode);
    EXPECT_EQ(file(plan, "b/b-key.pem").mode, kSecretMode);  // b names its own owner, in user mode
}

TEST(Owner, AWrongOwnerOrModeIsAnUpdateWithItsReasonAndNoReissue) {
    const Spec s = owned_spec("owner: {user: trellis}\n", 3000, 3001);
    DirSnapshot dir = applied(make_plan(s, {}, {}), s);
    EXPECT_FALSE(make_plan(s, dir, {}).changed());
    dir.files["a/a-key.pem"].owner = FileOwner{0, 0};
    dir.files["c/backend.yml"].owner = FileOwner{3000, 0};
    Plan plan = make_plan(s, dir, {});
    EXPECT_EQ(file(plan, "a/a-key.pem").action, FileAction::Update);
    EXPECT_EQ(file(plan, "a/a-key.pem").reason, "owner is 0:0, not 3000:3001");
    EXPECT_EQ(file(plan, "c/backend.yml").reason, "owner is 3000:0, not 3000:3001");
    EXPECT_EQ(plan.to_issue(), 0u);
    size_t changed = 0;
    for (const auto& f : plan.files) changed += f.action != FileAction::Unchanged;
    EXPECT_EQ(changed, 2u);
    // The same folder, now wanted in group mode: every key's mode and owner change, nothing is reissued.
    Spec g = owned_spec("owner: {user: trellis, group: tg, mode: group}\n", 3000, 3001);
    plan = make_plan(g, applied(make_plan(s, {}, {}), s), {});
    EXPECT_EQ(file(plan, "a/a-key.pem").reason, "mode is not 0640; owner is 3000:3001, not 0:3001");
    EXPECT_EQ(plan.to_issue(), 0u);
}

TEST(Owner, AnUnresolvedOwnerIsNeverPlannedAsNobody) {
    Spec s = plan_fixture::spec_of("owner: {user: trellis}\n" + kNodes);
    EXPECT_THROW(make_plan(s, {}, {}), Error);
}

TEST(Owner, TheUnitsRunAsTheOwner) {
    const Spec s = owned_spec("owner: {user: trellis, group: tg}\nstore: external\n", 3000, 3001);
    const auto files = render_cluster(s, {});
    auto content = [&](const std::string& path) {
        for (const auto& f : files)
            if (f.path == path) return f.content;
        throw std::runtime_error("not rendered: " + path);
    };
    EXPECT_THAT(content("a/trellis-backend.service"), HasSubstr("\nUser=trellis\nGroup=tg\n"));
    EXPECT_THAT(content("a/etcd.service"), HasSubstr("\nUser=trellis\nGroup=tg\n"));
    EXPECT_THAT(content("b/trellis-backend.service"), HasSubstr("\nUser=other\nGroup=g2\n"));
    const Spec plain = plan_fixture::spec_of("store: external\n" + kNodes);
    EXPECT_THAT(content("a/etcd.service"), Not(HasSubstr("User=etcd")));
    for (const auto& f : render_cluster(plain, {})) {
        if (f.path == "a/etcd.service") {
            EXPECT_THAT(f.content, HasSubstr("\nUser=etcd\n"));
        }
        if (f.path == "a/trellis-backend.service") {
            EXPECT_THAT(f.content, Not(HasSubstr("User=")));
        }
    }
}

}  // namespace
}  // namespace trellis::cluster
