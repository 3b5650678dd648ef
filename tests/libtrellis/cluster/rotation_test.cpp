// CA rotation's stages as plans, with no disk: each stage is planned from an in-memory snapshot, applied in
// memory (produce() makes the keys and certificates), and what every folder trusts is read off the result.
#include "cluster/rotation.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cluster/plan.hpp"
#include "cluster/provision.hpp"
#include "core/files.hpp"
#include "pki/certificate.hpp"
#include "pki/verify.hpp"
#include "plan_fixture.hpp"

namespace trellis::cluster {
namespace {

using plan_fixture::applied;
using plan_fixture::kThree;
using plan_fixture::spec_of;
using ::testing::HasSubstr;

// The client CA's leaves in kThree: each node's server and API certificate, and admin's.
const std::vector<std::string> kClientLeaves{
    "a/a.pem", "a/a-api.pem", "b/b.pem", "b/b-api.pem", "c/c.pem", "c/c-api.pem", "clients/admin/admin.pem"};
const std::vector<std::string> kClientCopies{"a/ca.pem", "b/ca.pem", "c/ca.pem", "clients/admin/ca.pem"};

PlanOptions stage(RotationStage s, CertKind ca = CertKind::ClientCa) {
    PlanOptions o;
    o.rotate = RotateOptions{ca, s};
    o.now = pki::Clock::now();
    return o;
}

pki::Certificate cert(const DirSnapshot& dir, const std::string& path) {
    return pki::Certificate::from_pem(dir.files.at(path).content, path);
}

std::vector<std::string> serials(const DirSnapshot& dir, const std::string& path) {
    std::vector<std::string> out;
    for (const auto& c : pki::Certificate::all_from_pem(dir.files.at(path).content, path))
        out.push_back(c.serial_decimal());
    return out;
}

Code code_of(const Spec& spec, const DirSnapshot& dir, const PlanOptions& o, std::string& message) {
    try {
        make_plan(spec, dir, o);
    } catch (const Error& e) {
        message = e.what();
        return e.code();
    }
    return Code::Internal;
}

class Rotation : public ::testing::Test {
  protected:
    Spec spec_ = spec_of(kThree);
    DirSnapshot before_ = applied(make_plan(spec_, {}, {}), spec_);
    DirSnapshot run(const DirSnapshot& dir, RotationStage s, CertKind ca = CertKind::ClientCa) {
        return applied(make_plan(spec_, dir, stage(s, ca)), spec_, dir);
    }
};

TEST_F(Rotation, TrustMakesANewCaInCaOnlyAndBundlesOldAndNewInEveryFolderThatTrustsIt) {
    const Plan plan = make_plan(spec_, before_, stage(RotationStage::Trust));
    EXPECT_EQ(plan.to_issue(), 0u) << "trust issues no leaf";
    const DirSnapshot after = applied(plan, spec_, before_);
    const auto old_serial = cert(before_, "ca/ca.pem").serial_decimal();
    const auto new_serial = cert(after, "ca/ca-next.pem").serial_decimal();
    EXPECT_NE(old_serial, new_serial);
    EXPECT_EQ(after.files.at("ca/ca-next-key.pem").mode, kSecretMode);
    for (const auto& [path, _] : after.files) {
        if (path.string().find("ca-next") != std::string::npos) {
            EXPECT_EQ(*path.begin(), "ca") << path;
        }
    }
    for (const auto& copy : kClientCopies)
        EXPECT_EQ(serials(after, copy), (std::vector<std::string>{old_serial, new_serial})) << copy;
    for (const auto* same : {"ca/ca.pem", "ca/ca-key.pem", "a/a.pem", "a/a-key.pem", "a/peer-ca.pem"})
        EXPECT_EQ(after.files.at(same).content, before_.files.at(same).content) << same;
    EXPECT_EQ(
        parse_rotation_record(&after.files.at(std::string(kRotationFile)).content).find(CertKind::ClientCa)->stage,
        RotationStage::Trust);
}

TEST_F(Rotation, TrustRunAgainIssuesNothingAndProvisionKeepsTheRotation) {
    const DirSnapshot trusted = run(before_, RotationStage::Trust);
    const Plan again = make_plan(spec_, trusted, stage(RotationStage::Trust));
    EXPECT_FALSE(again.changed()) << "a re-run after an interrupted rollout writes nothing";
    EXPECT_EQ(again.to_issue(), 0u);
    EXPECT_EQ(run(trusted, RotationStage::Trust).files.at("ca/ca-next.pem").content,
              trusted.files.at("ca/ca-next.pem").content);
    EXPECT_FALSE(make_plan(spec_, trusted, {}).changed()) << "provision must not undo the bundles";
}

TEST_F(Rotation, ReissueReissuesExactlyTheLeavesOfThatCaUnderTheNewOne) {
    const DirSnapshot trusted = run(before_, RotationStage::Trust);
    const Plan plan = make_plan(spec_, trusted, stage(RotationStage::Reissue));
    EXPECT_EQ(plan.to_issue(), kClientLeaves.size());
    EXPECT_EQ(plan.file("a/a.pem")->reason, "rotate-ca reissue: under the new CA");
    const DirSnapshot after = applied(plan, spec_, trusted);
    const pki::Certificate next = cert(trusted, "ca/ca-next.pem");
    for (const auto& leaf : kClientLeaves) {
        EXPECT_TRUE(signed_by(cert(after, leaf), next)) << leaf;
        const std::string key = leaf.substr(0, leaf.size() - 4) + "-key.pem";
        EXPECT_NE(after.files.at(key).content, trusted.files.at(key).content) << "a new key for " << leaf;
    }
    for (const auto* same : {"a/a-peer.pem", "ca/ca.pem", "ca/ca-next.pem", "a/ca.pem", "clients/admin/ca.pem"})
        EXPECT_EQ(after.files.at(same).content, trusted.files.at(same).content) << same;
    EXPECT_FALSE(make_plan(spec_, after, stage(RotationStage::Reissue)).changed()) << "nothing issued twice";
    EXPECT_FALSE(make_plan(spec_, after, {}).changed()) << "provision keeps the leaves of the new CA";
    PlanOptions renew;
    renew.renew = std::vector<std::string>{"b-api"};
    const DirSnapshot renewed = applied(make_plan(spec_, after, renew), spec_, after);
    EXPECT_NE(renewed.files.at("b/b-api.pem").content, after.files.at("b/b-api.pem").content);
    EXPECT_TRUE(signed_by(cert(renewed, "b/b-api.pem"), next)) << "renew mid-rotation signs with the stage's CA";
}

// The new CA keeps the old one's subject: both stacks must still pick the right one of the two roots by key.
TEST_F(Rotation, OpenSslAndBotanVerifyEveryLeafAgainstTheBundleWhicheverCaSignedIt) {
    const DirSnapshot trusted = run(before_, RotationStage::Trust);
    const DirSnapshot reissued = run(trusted, RotationStage::Reissue);
    for (const DirSnapshot* dir : {&trusted, &reissued}) {
        const auto roots = pki::Certificate::all_from_pem(dir->files.at("b/ca.pem").content, "b/ca.pem");
        ASSERT_EQ(roots.size(), 2u);
        EXPECT_EQ(roots[0].subject_text(), roots[1].subject_text());
        for (const auto& leaf : kClientLeaves)
            EXPECT_EQ(pki::chain_problem({cert(*dir, leaf), {}, roots, pki::Purpose::Any, std::nullopt, std::nullopt}),
                      "")
                << leaf << (dir == &trusted ? " (old CA)" : " (new CA)");
    }
}

TEST_F(Rotation, FinishMakesTheNewCaTheCaMovesTheOldAsideAndDropsItFromEveryBundle) {
    const DirSnapshot reissued = run(run(before_, RotationStage::Trust), RotationStage::Reissue);
    PlanOptions o = stage(RotationStage::Finish);
    o.now = pki::Clock::from_time_t(1796000000);  // 2026-11-28T...: the stamp of the moved-aside files
    const Plan plan = make_plan(spec_, reissued, o);
    EXPECT_EQ(plan.to_issue(), 0u);
    ASSERT_EQ(plan.removed.size(), 3u);  // the new CA's pair and its CRL: they are ca.pem's now
    DirSnapshot after = applied(plan, spec_, reissued);
    const std::string stamp = utc_stamp(o.now);
    EXPECT_EQ(after.files.at("ca/ca.pem").content, reissued.files.at("ca/ca-next.pem").content);
    EXPECT_EQ(after.files.at("ca/ca-key.pem").content, reissued.files.at("ca/ca-next-key.pem").content);
    EXPECT_EQ(after.files.at("ca/ca-retired-" + stamp + ".pem").content, before_.files.at("ca/ca.pem").content);
    EXPECT_EQ(after.files.at("ca/ca-retired-" + stamp + "-key.pem").content, before_.files.at("ca/ca-key.pem").content);
    EXPECT_EQ(after.files.at("ca/ca-retired-" + stamp + "-key.pem").mode, kSecretMode);
    EXPECT_FALSE(after.files.contains("ca/ca-next.pem"));
    EXPECT_FALSE(after.written.contains("ca/ca-next-key.pem"));
    for (const auto& copy : kClientCopies)
        EXPECT_EQ(serials(after, copy), std::vector<std::string>{cert(after, "ca/ca.pem").serial_decimal()}) << copy;
    EXPECT_FALSE(make_plan(spec_, after, stage(RotationStage::Finish)).changed()) << "finish run again";
    EXPECT_FALSE(make_plan(spec_, after, {}).changed()) << "provision after the rotation";
}

// Where CRLs are checked (the API), OpenSSL refuses a certificate whose issuer has no CRL: while a folder
// trusts two CAs, its CRL file holds a CRL of each, both listing what the record revokes; after finish,
// only the new CA's.
TEST_F(Rotation, EveryFolderHasACrlOfEachCaItTrusts) {
    const auto crls_in = [](const DirSnapshot& d, const std::string& path) {
        const std::string& text = d.files.at(path).content;
        std::size_t n = 0;
        for (auto at = text.find("-----BEGIN X509 CRL-----"); at != std::string::npos;
             at = text.find("-----BEGIN X509 CRL-----", at + 1))
            ++n;
        return n;
    };
    const DirSnapshot trusted = run(before_, RotationStage::Trust);
    const pki::Certificate old_ca = cert(trusted, "ca/ca.pem"), new_ca = cert(trusted, "ca/ca-next.pem");
    EXPECT_TRUE(pki::read_crl(trusted.files.at("ca/ca-next-crl.pem").content, "next", &new_ca).signed_by_issuer);
    for (const auto& copy : kClientCopies) {
        const std::string crl = crl_path(copy).string();
        if (!trusted.files.contains(crl)) continue;  // a client's folder: clients check no CRL
        EXPECT_EQ(crls_in(trusted, crl), 2u) << crl;
        EXPECT_TRUE(pki::read_crl(trusted.files.at(crl).content, crl, &old_ca).signed_by_issuer) << crl;
    }
    EXPECT_FALSE(make_plan(spec_, trusted, stage(RotationStage::Trust)).changed()) << "trust run again";
    const DirSnapshot done = run(run(trusted, RotationStage::Reissue), RotationStage::Finish);
    EXPECT_FALSE(done.files.contains("ca/ca-next-crl.pem"));
    int node_copies = 0;
    for (const auto& copy : kClientCopies) {
        const std::string crl = crl_path(copy).string();
        if (!done.files.contains(crl)) continue;
        ++node_copies;
        EXPECT_EQ(crls_in(done, crl), 1u) << crl;
        EXPECT_TRUE(pki::read_crl(done.files.at(crl).content, crl, &new_ca).signed_by_issuer) << crl;
    }
    EXPECT_GT(node_copies, 0);
}

TEST_F(Rotation, AFinishKilledBeforeItsCleanUpIsCompletedByTheNextPlan) {
    const DirSnapshot reissued = run(run(before_, RotationStage::Trust), RotationStage::Reissue);
    DirSnapshot after = run(reissued, RotationStage::Finish);
    after.files["ca/ca-next.pem"] = reissued.files.at("ca/ca-next.pem");  // the removal never happened
    after.files["ca/ca-next-key.pem"] = reissued.files.at("ca/ca-next-key.pem");
    const Plan plan = make_plan(spec_, after, {});
    ASSERT_EQ(plan.removed.size(), 2u);
    EXPECT_EQ(plan.removed[0].reason, "left by a finished rotation");
    EXPECT_EQ(plan.to_issue(), 0u);
}

TEST_F(Rotation, StagesOutOfOrderAreRefusedInOneLineNamingTheStageToRun) {
    std::string message;
    EXPECT_EQ(code_of(spec_, before_, stage(RotationStage::Reissue), message), Code::RotationOutOfOrder);
    EXPECT_THAT(message, HasSubstr("no stage is done; run --stage trust next"));
    const DirSnapshot trusted = run(before_, RotationStage::Trust);
    EXPECT_EQ(code_of(spec_, trusted, stage(RotationStage::Finish), message), Code::RotationOutOfOrder);
    EXPECT_THAT(message, HasSubstr("the last stage done is trust; run --stage reissue next"));
    const DirSnapshot reissued = run(trusted, RotationStage::Reissue);
    EXPECT_EQ(code_of(spec_, reissued, stage(RotationStage::Trust), message), Code::RotationOutOfOrder);
    EXPECT_THAT(message, HasSubstr("run --stage finish next"));
    EXPECT_EQ(message.find('\n'), std::string::npos);
    EXPECT_EQ(code_of(spec_, before_, stage(RotationStage::Finish), message), Code::RotationOutOfOrder);
    const DirSnapshot finished = run(reissued, RotationStage::Finish);
    EXPECT_EQ(code_of(spec_, finished, stage(RotationStage::Reissue), message), Code::RotationOutOfOrder);
    EXPECT_TRUE(make_plan(spec_, finished, stage(RotationStage::Trust)).changed()) << "a new rotation may start";
    PlanOptions fresh;
    fresh.force_new_ca = true;
    EXPECT_EQ(code_of(spec_, trusted, fresh, message), Code::RotationOutOfOrder);
    EXPECT_THAT(message, HasSubstr("--force-new-ca while the rotation of the client CA is at stage trust"));
    EXPECT_TRUE(make_plan(spec_, finished, fresh).changed()) << "after a finished rotation it is allowed again";
}

TEST_F(Rotation, ThePeerCaRotatesAloneAndASharedCaHasNoPeerCaToRotate) {
    const DirSnapshot after = run(before_, RotationStage::Trust, CertKind::PeerCa);
    EXPECT_EQ(serials(after, "a/peer-ca.pem").size(), 2u);
    EXPECT_EQ(serials(after, "a/ca.pem").size(), 1u);
    EXPECT_EQ(make_plan(spec_, after, stage(RotationStage::Reissue, CertKind::PeerCa)).to_issue(), 3u);
    const Spec shared = spec_of("cluster: {name: s}\nca: shared\n" + kThree.substr(kThree.find("nodes:")));
    std::string message;
    EXPECT_EQ(code_of(shared, {}, stage(RotationStage::Trust, CertKind::PeerCa), message), Code::InputInvalidValue);
    EXPECT_THAT(message, HasSubstr("--ca peer: the spec's security layout has no such CA"));
}

TEST_F(Rotation, StatusSaysWhichStageIsDoneAndWhichCaSignsTheLeaves) {
    const DirSnapshot trusted = run(before_, RotationStage::Trust);
    auto client = [&](const DirSnapshot& dir) { return rotation_status(spec_, dir).front(); };
    EXPECT_FALSE(client(before_).done);
    EXPECT_EQ(client(trusted).done, RotationStage::Trust);
    EXPECT_EQ(client(trusted).bundles, kClientCopies.size());
    EXPECT_EQ(client(trusted).under_current, kClientLeaves.size());
    EXPECT_THAT(client(trusted).next_step, HasSubstr("trellisctl cluster rollout"));
    const DirSnapshot reissued = run(trusted, RotationStage::Reissue);
    EXPECT_EQ(client(reissued).under_next, kClientLeaves.size());
    EXPECT_EQ(client(reissued).under_current, 0u);
    EXPECT_THAT(rotation_status_json(rotation_status(spec_, reissued)), HasSubstr("\"done\":\"reissue\""));
    const RotationStatus finished = client(run(reissued, RotationStage::Finish));
    EXPECT_EQ(finished.done, RotationStage::Finish);
    EXPECT_EQ(finished.bundles, 0u);
    EXPECT_EQ(finished.under_current, kClientLeaves.size()) << "the new CA is the CA now";
    EXPECT_THAT(finished.next_step, HasSubstr("trellisctl cluster rollout"));
    const RotationStatus peer = rotation_status(spec_, run(before_, RotationStage::Trust, CertKind::PeerCa)).back();
    EXPECT_EQ(peer.ca->kind, CertKind::PeerCa);
    EXPECT_THAT(peer.next_step, ::testing::Not(HasSubstr("clients"))) << "the peer CA concerns the nodes only";
}

TEST(RotationRecordTest, ADamagedRecordIsRefusedNamingTheFile) {
    const std::string bad = R"({"rotations":{"client-ca":{"stage":"halfway","at":{}}}})";
    try {
        parse_rotation_record(&bad);
        FAIL() << "accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), Code::FileReadFailed);
        EXPECT_THAT(e.what(), HasSubstr(".cluster-config-rotation.json"));
    }
}

}  // namespace
}  // namespace trellis::cluster
