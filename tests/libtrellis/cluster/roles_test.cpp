#include "cluster/roles.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

namespace trellis::cluster {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

Caller caller(std::vector<std::string> organizations) { return {"someone", "4660", std::move(organizations)}; }

TEST(Roles, TheTableGrantsAdminEverythingReaderReadsAndAgentsAndNodesNothing) {
    const std::set<std::pair<std::string_view, Action>> expected{{"admin", Action::Read},
                                                                 {"admin", Action::ChangeMembers},
                                                                 {"admin", Action::Snapshot},
                                                                 {"admin", Action::RestartEtcd},
                                                                 {"reader", Action::Read}};
    std::set<std::pair<std::string_view, Action>> granted;
    for (const auto& r : roles())
        for (const Action a : {Action::Read, Action::ChangeMembers, Action::Snapshot, Action::RestartEtcd})
            if (may(r.role, a)) granted.insert({r.name, a});
    EXPECT_EQ(granted, expected);
}

TEST(Roles, NamesRoundTripAndNodeIsNoClientRole) {
    std::set<std::string_view> names;
    for (const auto& r : roles()) {
        EXPECT_TRUE(names.insert(r.name).second) << r.name;
        EXPECT_EQ(find_role(r.name), r.role);
        EXPECT_EQ(role_name(r.role), r.name);
    }
    EXPECT_EQ(find_role("Admin"), std::nullopt);  // exact: an O is compared as written
    EXPECT_EQ(find_role(""), std::nullopt);
    EXPECT_FALSE(role_info(Role::Node).for_clients);
    EXPECT_EQ(client_role_names(), "admin, reader or agent");
}

TEST(Roles, TheRoleIsTheOneOrganizationThatNamesOne) {
    EXPECT_EQ(role_of(std::vector<std::string>{"reader"}), Role::Reader);
    EXPECT_EQ(role_of(std::vector<std::string>{"Example Corp", "admin"}), Role::Admin);  // an O of one's own
    EXPECT_EQ(role_of(std::vector<std::string>{"admin", "admin"}), Role::Admin);
    EXPECT_EQ(role_of(std::vector<std::string>{"admin", "node"}), std::nullopt);  // ambiguous: refused
    EXPECT_EQ(role_of(std::vector<std::string>{"Trellis"}), std::nullopt);        // an older provision's O
    EXPECT_EQ(role_of(std::vector<std::string>{}), std::nullopt);
}

TEST(Roles, AuthorizeAllowsWhatTheTableGrants) {
    EXPECT_FALSE(authorize(caller({"admin"}), Action::ChangeMembers, "POST /m"));
    EXPECT_FALSE(authorize(caller({"admin"}), Action::Snapshot, "GET /s"));
    EXPECT_FALSE(authorize(caller({"reader"}), Action::Read, "GET /health"));
}

TEST(Roles, ADenialNamesTheRequestTheCallerItsRoleAndTheRolesThatMay) {
    const auto e = authorize(caller({"agent"}), Action::Read, "GET /health");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), Code::Forbidden);
    EXPECT_THAT(e->what(), HasSubstr("GET /health needs role admin or reader"));
    EXPECT_THAT(e->what(), HasSubstr("CN=someone, serial 4660"));
    EXPECT_THAT(e->what(), HasSubstr("has role agent"));
    const auto reader = authorize(caller({"reader"}), Action::ChangeMembers, "DELETE /m/1");
    ASSERT_TRUE(reader);
    EXPECT_THAT(reader->what(), HasSubstr("DELETE /m/1 needs role admin;"));
    EXPECT_THAT(reader->what(), HasSubstr("has role reader"));
    const auto node = authorize(caller({"node"}), Action::Snapshot, "GET /s");
    ASSERT_TRUE(node);
    EXPECT_THAT(node->what(), HasSubstr("has role node"));
    EXPECT_THAT(std::string(node->what()), Not(HasSubstr("\n")));
}

TEST(Roles, ACertificateWithoutARoleIsToldToReprovision) {
    const auto e = authorize(caller({"Trellis"}), Action::Read, "GET /health");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), Code::Forbidden);
    EXPECT_THAT(e->what(), HasSubstr("has no Trellis role (O=Trellis)"));
    EXPECT_THAT(e->what(), HasSubstr("re-provision or renew"));
    EXPECT_THAT(e->what(), HasSubstr("O=admin or O=reader"));
    const auto none = authorize(caller({}), Action::Read, "GET /health");
    ASSERT_TRUE(none);
    EXPECT_THAT(none->what(), HasSubstr("(no O)"));
    EXPECT_TRUE(authorize(caller({"admin", "reader"}), Action::Read, "GET /health"));  // ambiguous
}

}  // namespace
}  // namespace trellis::cluster
