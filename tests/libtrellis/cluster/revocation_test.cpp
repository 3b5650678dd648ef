// Revocation in the plan, with no file system: a CRL per CA in ca/ and in every node's folder from the
// first provision, revoke's serials and re-issue, the record in the manifest, and re-signing inside
// renew-before -- every decision read off the plan, every CRL read back with OpenSSL.
#include "cluster/revocation.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cluster/provision.hpp"
#include "cluster/render.hpp"
#include "core/files.hpp"
#include "plan_fixture.hpp"

namespace trellis::cluster {
namespace {

using plan_fixture::applied;
using plan_fixture::changed;
using plan_fixture::file;
using plan_fixture::kThree;
using plan_fixture::spec_of;
using ::testing::HasSubstr;
using ::testing::StartsWith;

PlanOptions revoke(std::vector<std::string> names) {
    PlanOptions o;
    o.revoke = std::move(names);
    return o;
}

const std::vector<std::string> kClientCrls{"a/ca-crl.pem", "b/ca-crl.pem", "c/ca-crl.pem", "ca/ca-crl.pem"};
const std::vector<std::string> kPeerCrls{"a/peer-ca-crl.pem", "b/peer-ca-crl.pem", "c/peer-ca-crl.pem",
                                         "ca/peer-ca-crl.pem"};

class Revocation : public ::testing::Test {
  protected:
    Spec spec_ = spec_of(kThree);
    DirSnapshot dir_ = applied(make_plan(spec_, {}, {}), spec_);

    pki::CrlInfo crl(const DirSnapshot& dir, const std::string& path, const std::string& ca) const {
        const auto issuer = pki::Certificate::from_pem(dir.files.at(ca).content, ca);
        return pki::read_crl(dir.files.at(path).content, path, &issuer);
    }
    std::string serial(const DirSnapshot& dir, const std::string& path) const {
        return pki::Certificate::from_pem(dir.files.at(path).content, path).serial_decimal();
    }
};

TEST_F(Revocation, ProvisionWritesAnEmptySignedCrlPerCaInCaAndEveryNodeFolder) {
    const Plan plan = make_plan(spec_, {}, {});
    ASSERT_EQ(plan.crls.size(), 2u);
    for (const auto& p : kClientCrls) {
        EXPECT_EQ(file(plan, p).reason, "new CA") << p;
        EXPECT_EQ(file(plan, p).mode, kPublicMode) << p;
        const pki::CrlInfo info = crl(dir_, p, "ca/ca.pem");
        EXPECT_TRUE(info.serials.empty());
        EXPECT_TRUE(info.signed_by_issuer) << p;
        EXPECT_NEAR(std::chrono::duration<double>(info.next_update - pki::Clock::now()).count(),
                    std::chrono::duration<double>(spec_.leaf_validity).count(), 120)
            << "valid as long as a new leaf";
        EXPECT_EQ(dir_.files.at(p).content, dir_.files.at("ca/ca-crl.pem").content) << "copies of one CRL";
    }
    for (const auto& p : kPeerCrls) EXPECT_TRUE(crl(dir_, p, "ca/peer-ca.pem").signed_by_issuer) << p;
    EXPECT_EQ(dir_.files.count("clients/admin/ca-crl.pem"), 0u) << "clients check no CRL";
    EXPECT_FALSE(make_plan(spec_, dir_, {}).changed()) << "a CRL far from its next update is kept";
}

TEST_F(Revocation, RevokeListsTheSerialsAndReissuesExactlyThoseLeaves) {
    const std::string admin = serial(dir_, "clients/admin/admin.pem"), peer = serial(dir_, "b/b-peer.pem");
    const Plan plan = make_plan(spec_, dir_, revoke({"admin", "b-peer"}));
    std::set<std::string> want{"clients/admin/admin.pem", "clients/admin/admin-key.pem", "b/b-peer.pem",
                               "b/b-peer-key.pem"};
    want.insert(kClientCrls.begin(), kClientCrls.end());
    want.insert(kPeerCrls.begin(), kPeerCrls.end());
    EXPECT_EQ(changed(plan), want);
    EXPECT_EQ(plan.to_issue(), 2u);
    EXPECT_EQ(file(plan, "b/b-peer.pem").reason, "revoked (serial " + peer + "); re-issued with a new key");
    EXPECT_EQ(file(plan, "a/ca-crl.pem").reason, "revokes admin (serial " + admin + ")");
    EXPECT_EQ(file(plan, "ca/peer-ca-crl.pem").reason, "revokes b-peer (serial " + peer + ")");

    const DirSnapshot after = applied(plan, spec_, dir_);
    for (const auto& p : kClientCrls) EXPECT_EQ(crl(after, p, "ca/ca.pem").serials, std::vector{admin}) << p;
    for (const auto& p : kPeerCrls) EXPECT_EQ(crl(after, p, "ca/peer-ca.pem").serials, std::vector{peer}) << p;
    EXPECT_NE(serial(after, "clients/admin/admin.pem"), admin);
    for (const auto* ca : {"ca/ca.pem", "ca/ca-key.pem", "ca/peer-ca.pem", "ca/peer-ca-key.pem"})
        EXPECT_EQ(after.files.at(ca).content, dir_.files.at(ca).content) << ca;
    EXPECT_EQ(after.revoked, (RevokedCerts{{"ca", {{admin, "admin"}}}, {"peer-ca", {{peer, "b-peer"}}}}));
    EXPECT_FALSE(make_plan(spec_, after, {}).changed()) << "provision keeps the revocations";

    // A second revocation adds to the first; the first stays listed.
    const std::string a_api = serial(after, "a/a-api.pem");
    const DirSnapshot twice = applied(make_plan(spec_, after, revoke({"a-api"})), spec_, after);
    auto both = std::vector{admin, a_api};
    std::sort(both.begin(), both.end());
    EXPECT_EQ(crl(twice, "c/ca-crl.pem", "ca/ca.pem").serials, both);
    EXPECT_EQ(crl(twice, "c/peer-ca-crl.pem", "ca/peer-ca.pem").serials, std::vector{peer});
}

TEST_F(Revocation, UnknownNamesCasAndMissingFilesAreRefusedInOneLine) {
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
    EXPECT_EQ(code_of(revoke({"admin", "nope"}), dir_, message), Code::CertUnknownName);
    EXPECT_THAT(message, StartsWith("revoke nope: no leaf certificate of that name in the spec (the leaves: a, "));
    EXPECT_EQ(message.find('\n'), std::string::npos);
    EXPECT_EQ(code_of(revoke({"peer-ca"}), dir_, message), Code::CertUnknownName);
    EXPECT_THAT(message, HasSubstr("is a CA; a CA cannot be revoked, replace it (provision --force-new-ca)"));
    DirSnapshot missing = dir_;
    missing.files.erase("clients/admin/admin.pem");
    EXPECT_EQ(code_of(revoke({"admin"}), missing, message), Code::FileReadFailed);
    EXPECT_THAT(message, HasSubstr("clients/admin/admin.pem: missing, so there is nothing to revoke"));
    EXPECT_EQ(code_of(revoke({}), dir_, message), Code::Usage);
    PlanOptions both = revoke({"admin"});
    both.force_new_ca = true;
    EXPECT_EQ(code_of(both, dir_, message), Code::Usage);
}

TEST_F(Revocation, ACrlInsideRenewBeforeOrNotSignedByTheCaIsResigned) {
    PlanOptions o;
    o.now = pki::Clock::now() + spec_.leaf_validity - std::chrono::hours(100);
    const Plan near = make_plan(spec_, dir_, o);
    EXPECT_THAT(file(near, "ca/ca-crl.pem").reason, HasSubstr("is within renew-before 720h0m0s"));
    EXPECT_EQ(file(near, "b/peer-ca-crl.pem").action, FileAction::Update);
    o.now = pki::Clock::now() + spec_.leaf_validity + std::chrono::hours(1);
    EXPECT_THAT(file(make_plan(spec_, dir_, o), "ca/ca-crl.pem").reason, HasSubstr("past its next update"));

    // The peer CA's CRL where the client CA's belongs (written by cluster-config, so replaceable).
    DirSnapshot swapped = dir_;
    swapped.files["ca/ca-crl.pem"] = dir_.files.at("ca/peer-ca-crl.pem");
    swapped.written["ca/ca-crl.pem"] = manifest_hash(dir_.files.at("ca/peer-ca-crl.pem").content);
    const Plan plan = make_plan(spec_, swapped, {});
    EXPECT_EQ(file(plan, "ca/ca-crl.pem").reason, "not signed by the current CA");
    EXPECT_EQ(file(plan, "ca/ca-crl.pem").action, FileAction::Update);
}

TEST_F(Revocation, ANewCaStartsWithAnEmptyCrlAndRenderKeepsTheRecord) {
    const DirSnapshot after = applied(make_plan(spec_, dir_, revoke({"admin"})), spec_, dir_);
    PlanOptions render;
    render.certificates = false;
    EXPECT_EQ(make_plan(spec_, after, render).revoked, after.revoked);
    PlanOptions fresh;
    fresh.force_new_ca = true;
    const Plan plan = make_plan(spec_, after, fresh);
    EXPECT_TRUE(plan.revoked.empty()) << "the new CA signed none of the revoked certificates";
    EXPECT_TRUE(crl(applied(plan, spec_, after), "a/ca-crl.pem", "ca/ca.pem").serials.empty());
}

TEST(RenderedCrlKeys, EtcdAndTheApiAreGivenTheNodesCrls) {
    const Spec spec = spec_of(kThree);
    const NodeFiles files = node_files(spec, spec.nodes.front());
    EXPECT_EQ(files.crl, "ca-crl.pem");
    EXPECT_EQ(files.peer_crl, "peer-ca-crl.pem");
    const BackendConfig c = member_config(spec, spec.nodes.front(), spec.nodes, {});
    EXPECT_THAT(c.get(Key::EtcdClientCrlFile), HasSubstr("ca-crl.pem"));
    EXPECT_THAT(c.get(Key::EtcdPeerCrlFile), HasSubstr("peer-ca-crl.pem"));
    EXPECT_THAT(c.etcd_arguments(), ::testing::Contains(StartsWith("--peer-crl-file=")));
}

}  // namespace
}  // namespace trellis::cluster
