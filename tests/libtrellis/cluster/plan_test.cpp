// The plan with no file system: snapshots are built in memory (from produce(), which makes keys and
// certificates but writes nothing), and every decision is read off the plan.
#include "cluster/plan.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cluster/provision.hpp"
#include "core/files.hpp"
#include "plan_fixture.hpp"

namespace trellis::cluster {
namespace {

namespace fs = std::filesystem;
using plan_fixture::applied;
using plan_fixture::changed;
using plan_fixture::file;
using plan_fixture::kThree;
using plan_fixture::spec_of;
using ::testing::Contains;
using ::testing::HasSubstr;

std::map<std::string, FileAction> actions(const Plan& plan) {
    std::map<std::string, FileAction> out;
    for (const auto& f : plan.files) out[f.path.string()] = f.action;
    return out;
}

class PlanTest : public ::testing::Test {
  protected:
    Spec spec_ = spec_of(kThree);
    DirSnapshot dir_ = applied(make_plan(spec_, {}, {}), spec_);
};

TEST(Plan, AnEmptyDirCreatesEverythingFromNewCas) {
    const Spec s = spec_of(kThree);
    const Plan plan = make_plan(s, {}, {});
    EXPECT_EQ(plan.to_issue(), 10u);  // 3 x (server, peer, API) + admin
    EXPECT_TRUE(plan.changed());
    for (const auto& f : plan.files) EXPECT_EQ(f.action, FileAction::Create) << f.path;
    EXPECT_EQ(file(plan, "a/a-peer.pem").reason, "new CA");
    EXPECT_EQ(file(plan, "a/backend.yml").reason, "new file");
    EXPECT_EQ(file(plan, "a/a-api-key.pem").mode, kSecretMode);
    EXPECT_EQ(file(plan, "ca/ca.pem").mode, kPublicMode);
    EXPECT_TRUE(file(plan, "a/backend.yml").rendered);
    EXPECT_TRUE(plan.conflicts().empty());
}

TEST_F(PlanTest, AppliedOnceThereIsNothingLeftToDo) {
    const Plan again = make_plan(spec_, dir_, {});
    EXPECT_FALSE(again.changed());
    EXPECT_EQ(again.to_issue(), 0u);
    EXPECT_TRUE(again.warnings.empty());
}

TEST_F(PlanTest, RenewsOnlyWithinRenewBeforeAndSaysSo) {
    PlanOptions o;
    o.now = pki::Clock::now() + std::chrono::hours(8760 - 1000);
    EXPECT_FALSE(make_plan(spec_, dir_, o).changed());
    o.now = pki::Clock::now() + std::chrono::hours(8760 - 100);
    const Plan plan = make_plan(spec_, dir_, o);
    EXPECT_EQ(plan.to_issue(), 10u);
    EXPECT_THAT(file(plan, "b/b.pem").reason, HasSubstr("within renew-before 720h"));
    EXPECT_EQ(file(plan, "ca/ca-key.pem").action, FileAction::Unchanged);  // never the CA
}

TEST_F(PlanTest, ANewSanReissuesThatNodesServingCertificatesOnly) {
    std::string text = kThree;
    text.replace(text.find("{name: b, address: 10.2.0.2}"), 28, "{name: b, address: 10.2.0.2, names: [b.test]}");
    const Plan plan = make_plan(spec_of(text), dir_, {});
    EXPECT_EQ(changed(plan), (std::set<std::string>{"b/b.pem", "b/b-key.pem", "b/b-peer.pem", "b/b-peer-key.pem",
                                                    "b/b-api.pem", "b/b-api-key.pem"}));
    EXPECT_EQ(file(plan, "b/b-api.pem").reason, "SANs changed: +b.test");
}

TEST_F(PlanTest, AClientWhoseRoleChangesIsReissuedAloneWithTheReason) {
    std::string text = kThree;
    text.replace(text.find("- name: admin"), 13, "- {name: admin, role: reader}");
    const Plan plan = make_plan(spec_of(text), dir_, {});
    EXPECT_EQ(changed(plan), (std::set<std::string>{"clients/admin/admin.pem", "clients/admin/admin-key.pem"}));
    EXPECT_EQ(file(plan, "clients/admin/admin.pem").reason,
              "role differs (subject O=admin, the spec's role is O=reader)");
}

TEST_F(PlanTest, AHandEditedFileIsAConflictUntilForced) {
    dir_.files["a/backend.yml"].content += "# tuned by hand\n";
    Plan plan = make_plan(spec_, dir_, {});
    ASSERT_EQ(plan.conflicts().size(), 1u);
    EXPECT_EQ(plan.conflicts()[0]->path, "a/backend.yml");
    EXPECT_THAT(plan.conflicts()[0]->reason, HasSubstr("changed by hand since cluster-config wrote it"));
    EXPECT_THAT(plan_diff(plan), HasSubstr("--- a/a/backend.yml\n+++ b/a/backend.yml\n@@ line "));
    EXPECT_THAT(plan_diff(plan), HasSubstr("-# tuned by hand\n"));
    PlanOptions force;
    force.force = true;
    plan = make_plan(spec_, dir_, force);
    EXPECT_TRUE(plan.conflicts().empty());
    EXPECT_EQ(file(plan, "a/backend.yml").action, FileAction::Update);
    EXPECT_THAT(file(plan, "a/backend.yml").reason, HasSubstr("replaced (--force)"));
}

TEST_F(PlanTest, AFileNotWrittenByClusterConfigIsNotReplacedEither) {
    dir_.written.erase("c/c-api.pem");
    dir_.files["c/c-api.pem"].content = "someone else's certificate\n";
    const Plan plan = make_plan(spec_, dir_, {});
    EXPECT_EQ(file(plan, "c/c-api.pem").action, FileAction::Conflict);
    EXPECT_THAT(file(plan, "c/c-api.pem").reason, HasSubstr("unreadable"));
    EXPECT_THAT(file(plan, "c/c-api.pem").reason, HasSubstr("not written by cluster-config"));
    // Its key is still ours: an update, but the conflict stops the whole apply.
    EXPECT_EQ(file(plan, "c/c-api-key.pem").action, FileAction::Update);
}

TEST_F(PlanTest, AWrongModeIsFixedWithoutReissuing) {
    dir_.files["b/b-key.pem"].mode = 0644;
    const Plan plan = make_plan(spec_, dir_, {});
    EXPECT_EQ(changed(plan), std::set<std::string>{"b/b-key.pem"});
    EXPECT_EQ(file(plan, "b/b-key.pem").reason, "mode is not 0600");
    EXPECT_EQ(plan.to_issue(), 0u);
}

TEST_F(PlanTest, ANodeThatJoinsLaterChangesNoOtherNodesFiles) {
    std::string text = kThree;
    text.insert(text.find("clients:"), "  - {name: d, address: 10.2.0.4, join: existing}\n");
    const Plan plan = make_plan(spec_of(text), dir_, {});
    for (const auto& path : changed(plan)) EXPECT_TRUE(path.starts_with("d/")) << path;
    EXPECT_THAT(file(plan, "d/backend.yml").content, HasSubstr("etcd-initial-cluster-state: \"existing\""));
    // add-node plans the same files for the same node.
    PlanOptions add;
    add.only_node = "d";
    add.members = spec_.nodes;
    add.members.push_back(NodeSpec{"d", "10.2.0.4", {}, spec_.ports, 0, true});
    const Plan single = make_plan(spec_, dir_, add);
    EXPECT_EQ(file(single, "d/backend.yml").content, file(plan, "d/backend.yml").content);
    EXPECT_EQ(changed(single), changed(plan));
}

TEST_F(PlanTest, CaProblemsAreErrorsNamingTheFile) {
    DirSnapshot no_key = dir_;
    no_key.files.erase("ca/ca-key.pem");
    try {
        make_plan(spec_, no_key, {});
        FAIL() << "a CA certificate without its key was accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), Code::FileReadFailed);
        EXPECT_THAT(e.what(), HasSubstr("ca/ca-key.pem: missing, but its CA certificate ca/ca.pem exists"));
    }
    PlanOptions add;
    add.only_node = "d";
    add.members = {NodeSpec{"d", "10.2.0.4", {}, spec_.ports, 0, true}};
    EXPECT_THROW(make_plan(spec_, {}, add), Error);  // add-node needs the CA
    PlanOptions fresh;
    fresh.force_new_ca = true;
    const Plan plan = make_plan(spec_, dir_, fresh);
    EXPECT_EQ(plan.to_issue(), 10u);
    EXPECT_EQ(file(plan, "ca/ca.pem").reason, "--force-new-ca");
    EXPECT_TRUE(plan.conflicts().empty());
}

TEST_F(PlanTest, AStrayCaKeyInANodeFolderIsWarnedAbout) {
    dir_.files["c/ca-key.pem"] = dir_.files["ca/ca-key.pem"];
    const Plan plan = make_plan(spec_, dir_, {});
    EXPECT_THAT(plan.warnings, Contains(HasSubstr("c/ca-key.pem: a CA key in a node's folder")));
}

// cluster-config renew: the same plan, with the chosen leaves marked; never a CA.
PlanOptions renew(std::vector<std::string> names) {
    PlanOptions o;
    o.renew = std::move(names);
    return o;
}

TEST_F(PlanTest, RenewReissuesExactlyTheNamedLeavesUnderTheSameCa) {
    const Plan plan = make_plan(spec_, dir_, renew({"b-api", "admin"}));
    EXPECT_EQ(changed(plan), (std::set<std::string>{"b/b-api.pem", "b/b-api-key.pem", "clients/admin/admin.pem",
                                                    "clients/admin/admin-key.pem"}));
    EXPECT_EQ(file(plan, "b/b-api.pem").reason, "renew requested");
    EXPECT_EQ(plan.to_issue(), 2u);
    const DirSnapshot after = applied(plan, spec_, dir_);
    // A new key and a new certificate, signed by the CA that was there: the CA files are byte for byte the same.
    EXPECT_NE(after.files.at("b/b-api-key.pem").content, dir_.files.at("b/b-api-key.pem").content);
    for (const auto* ca : {"ca/ca.pem", "ca/ca-key.pem", "ca/peer-ca.pem", "ca/peer-ca-key.pem", "b/ca.pem"})
        EXPECT_EQ(after.files.at(ca).content, dir_.files.at(ca).content) << ca;
    EXPECT_FALSE(make_plan(spec_, after, {}).changed()) << "a renewed leaf fits the spec like any other";
}

TEST_F(PlanTest, RenewWithoutNamesReissuesEveryLeafAndNoCa) {
    const Plan plan = make_plan(spec_, dir_, renew({}));
    EXPECT_EQ(plan.to_issue(), 10u);
    for (const auto& f : plan.files) {
        const bool leaf = f.path.extension() == ".pem" && *f.path.begin() != "ca" && f.path.filename() != "ca.pem" &&
                          f.path.filename() != "peer-ca.pem" && !f.path.filename().string().ends_with("-crl.pem");
        EXPECT_EQ(f.action, leaf ? FileAction::Update : FileAction::Unchanged) << f.path;
    }
}

TEST_F(PlanTest, RenewRefusesAnUnknownNameACaAndAMissingCaInOneLine) {
    auto code_of = [&](const PlanOptions& o, const DirSnapshot& dir, std::string& message) {
        try {
            make_plan(spec_, dir, o);
        } catch (const Error& e) {
            message = e.what();
            return e.code();
        }
        return Code::Internal;
    };
    std::string message;
    EXPECT_EQ(code_of(renew({"b-api", "nope"}), dir_, message), Code::CertUnknownName);
    EXPECT_THAT(message, HasSubstr("--name nope: no leaf certificate of that name in the spec (the leaves: a, a-peer"));
    EXPECT_EQ(message.find('\n'), std::string::npos);
    EXPECT_EQ(code_of(renew({"peer-ca"}), dir_, message), Code::CertUnknownName);
    EXPECT_THAT(message, HasSubstr("is a CA"));
    EXPECT_EQ(code_of(renew({}), {}, message), Code::FileReadFailed);
    EXPECT_THAT(message, HasSubstr("ca/ca.pem: renew needs the cluster's CA"));
}

TEST(Plan, RenderOnlyPlansNoCertificates) {
    PlanOptions o;
    o.certificates = false;
    const Plan plan = make_plan(spec_of(kThree), {}, o);
    EXPECT_TRUE(plan.certs.empty());
    EXPECT_EQ(actions(plan).size(), 6u);  // backend.yml and trellis-backend.service per node
}

TEST(TextDiff, ShowsOnlyTheChangedLinesWithWhereTheyAre) {
    EXPECT_EQ(text_diff("a\nb\nc\nd\n", "a\nB\nc\nd\ne\n", "x.yml"),
              "--- a/x.yml\n+++ b/x.yml\n@@ line 2 @@\n-b\n+B\n@@ line 5 @@\n+e\n");
    EXPECT_EQ(text_diff("same\n", "same\n", "x"), "--- a/x\n+++ b/x\n");
}

}  // namespace
}  // namespace trellis::cluster
