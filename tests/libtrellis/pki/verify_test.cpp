// LeafChecker (provisioning's prepared checks) must accept and refuse exactly what require_chain does.
#include "pki/verify.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "helpers.hpp"
#include "pki/issue.hpp"

namespace trellis::pki {
namespace {

using test::make_ca;
using test::profile_with;
using test::request_json;
using test::throws_code;

Certificate leaf_of(const Signer& ca, const Profile& profile, const std::string& json = R"({"CN":"agent"})") {
    Warnings w;
    return issue_certificate(request_json(json), PrivateKey::generate({KeyAlgorithm::Ecdsa, 256}), ca, profile, w);
}

// Both ways of checking, for one case: the same verdict, and the same error code when refused.
void expect_same_verdict(const LeafChecker& checker, const Signer& ca, const Certificate& leaf, Purpose purpose,
                         bool accepted) {
    const VerifyRequest request{leaf, {}, {ca.certificate()}, purpose, std::nullopt, std::nullopt};
    EXPECT_EQ(chain_problem(request).empty(), accepted) << chain_problem(request);
    if (accepted) {
        EXPECT_NO_THROW(checker.require(leaf, purpose, "leaf.pem"));
    } else {
        EXPECT_TRUE(throws_code([&] { checker.require(leaf, purpose, "leaf.pem"); }, Code::CertVerifyFailed));
    }
}

TEST(LeafChecker, AgreesWithTheFullValidationOnGoodAndWrongPurposes) {
    const auto ca = make_ca();
    const LeafChecker checker(ca.signer.certificate());
    const Certificate client = leaf_of(ca.signer, profile_with({"signing", "client auth"}));
    const Certificate peer = leaf_of(ca.signer, profile_with({"signing", "server auth", "client auth"}),
                                     R"({"CN":"peer","hosts":["127.0.0.1"]})");
    expect_same_verdict(checker, ca.signer, client, Purpose::ClientAuth, true);
    expect_same_verdict(checker, ca.signer, client, Purpose::ServerAuth, false);
    expect_same_verdict(checker, ca.signer, peer, Purpose::ServerAuth, true);
    expect_same_verdict(checker, ca.signer, peer, Purpose::ClientAuth, true);
}

TEST(LeafChecker, RefusesALeafOfAnotherCaWithTheSameName) {
    const auto ca = make_ca();
    const auto twin = make_ca();  // same subject, another key
    const LeafChecker checker(ca.signer.certificate());
    const Certificate forged = leaf_of(twin.signer, profile_with({"signing", "client auth"}));
    expect_same_verdict(checker, ca.signer, forged, Purpose::ClientAuth, false);
    const std::string why = test::error_message([&] { checker.require(forged, Purpose::ClientAuth, "leaf.pem"); });
    EXPECT_NE(why.find("OpenSSL: unable to get local issuer certificate"), std::string::npos) << why;  // AKI differs
    EXPECT_NE(why.find("Botan: Signature error"), std::string::npos) << why;
}

TEST(LeafChecker, RefusesALeafOutsideItsValidity) {
    const auto ca = make_ca();
    const LeafChecker checker(ca.signer.certificate());
    Profile past = profile_with({"signing", "client auth"});
    past.not_before = std::chrono::floor<std::chrono::seconds>(Clock::now() - std::chrono::hours(48));
    past.not_after = std::chrono::floor<std::chrono::seconds>(Clock::now() - std::chrono::hours(24));
    const Certificate expired = leaf_of(ca.signer, past);
    expect_same_verdict(checker, ca.signer, expired, Purpose::ClientAuth, false);
    const std::string why = test::error_message([&] { checker.require(expired, Purpose::ClientAuth, "leaf.pem"); });
    EXPECT_NE(why.find("leaf.pem"), std::string::npos) << why;
    EXPECT_NE(why.find("Botan: Certificate has expired"), std::string::npos) << why;
}

TEST(LeafChecker, RsaAndEd25519CasWork) {
    for (const char* json :
         {R"({"CN":"RSA CA","key":{"algo":"rsa","size":2048}})", R"({"CN":"Ed CA","key":{"algo":"ed25519"}})"}) {
        const auto ca = make_ca(json);
        const LeafChecker checker(ca.signer.certificate());
        const Certificate leaf = leaf_of(ca.signer, profile_with({"signing", "client auth"}));
        expect_same_verdict(checker, ca.signer, leaf, Purpose::ClientAuth, true);
        const auto other = make_ca(json);
        expect_same_verdict(checker, ca.signer, leaf_of(other.signer, profile_with({"signing", "client auth"})),
                            Purpose::ClientAuth, false);
    }
}

// The warm-up builds Botan's curve tables on another thread while this one makes a CA on that curve and
// checks with it: the checks (which may wait for the tables inside Botan) give the verdicts they give alone.
TEST(CheckWarmup, ChecksMadeWhileItRunsGiveTheSameVerdicts) {
    for (const int size : {384, 521, 256}) {
        const CheckWarmup warmup({KeyAlgorithm::Ecdsa, size});
        const std::string json = R"({"CN":"EC CA","key":{"algo":"ecdsa","size":)" + std::to_string(size) + "}}";
        const auto ca = make_ca(json);
        const LeafChecker checker(ca.signer.certificate());
        const Certificate leaf = leaf_of(ca.signer, profile_with({"signing", "client auth"}));
        expect_same_verdict(checker, ca.signer, leaf, Purpose::ClientAuth, true);
        expect_same_verdict(checker, ca.signer, leaf, Purpose::ServerAuth, false);
    }
    const CheckWarmup nothing_to_build({KeyAlgorithm::Rsa, 2048});  // starts no thread; destroying it is instant
}

TEST(LeafChecker, IsSafeToShareBetweenThreads) {
    const auto ca = make_ca();
    const LeafChecker checker(ca.signer.certificate());
    std::vector<Certificate> leaves;
    for (int i = 0; i < 16; ++i) leaves.push_back(leaf_of(ca.signer, profile_with({"signing", "client auth"})));
    std::vector<std::jthread> threads;
    std::atomic<int> accepted{0};
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (const auto& leaf : leaves) {
                checker.require(leaf, Purpose::ClientAuth, "leaf.pem");
                accepted.fetch_add(1);
            }
        });
    threads.clear();
    EXPECT_EQ(accepted.load(), 64);
}

}  // namespace
}  // namespace trellis::pki
