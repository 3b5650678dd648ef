// check-expiration's report, computed from real certificates: a provisioned DIR made in memory, one leaf
// replaced by a certificate with chosen dates, and the clock set around them.
#include "cluster/expiry.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cluster/provision.hpp"
#include "pki/issue.hpp"
#include "plan_fixture.hpp"
#include "support.hpp"

namespace trellis::cluster {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// The not-after of the leaf the tests give chosen dates: well before the provisioned leaves' (now + 8760h).
const pki::Clock::time_point kNotAfter = std::chrono::floor<std::chrono::seconds>(pki::Clock::now()) + 4000h;

class ExpiryTest : public ::testing::Test {
  protected:
    void SetUp() override {
        // b's API certificate: valid for one year up to kNotAfter, signed by the client CA in the DIR.
        const pki::Signer ca(pki::Certificate::from_pem(dir_.files.at("ca/ca.pem").content, "ca/ca.pem"),
                             pki::PrivateKey::from_pem(dir_.files.at("ca/ca-key.pem").content, "ca/ca-key.pem"));
        pki::Profile profile;
        profile.usages = {"digital signature", "server auth"};
        profile.not_before = std::chrono::time_point_cast<std::chrono::seconds>(kNotAfter - 8760h);
        profile.not_after = std::chrono::time_point_cast<std::chrono::seconds>(kNotAfter);
        pki::CertificateRequest req;
        req.cn = "b";
        req.hosts = {"10.2.0.2"};
        Warnings w;
        const pki::Issued issued = pki::issue(req, ca, profile, {}, w);
        dir_.files["b/b-api.pem"].content = issued.cert;
        dir_.files["b/b-api-key.pem"].content = issued.key;
    }

    ExpiryReport at(pki::Clock::time_point now, pki::Duration window = kDefaultRenewBefore) const {
        return expiry_report(spec_certificates(spec_), dir_, window, now);
    }
    static const ExpiryRow& row(const ExpiryReport& r, const std::string& name) {
        for (const auto& x : r.rows)
            if (x.name == name) return x;
        throw std::runtime_error("no row " + name);
    }

    Spec spec_ = plan_fixture::spec_of(plan_fixture::kThree);
    DirSnapshot dir_ = plan_fixture::applied(make_plan(spec_, {}, {}), spec_);
};

TEST_F(ExpiryTest, EveryCaAndLeafWithItsSignerAndWhoUsesIt) {
    const ExpiryReport r = at(kNotAfter - 2000h);
    ASSERT_EQ(r.rows.size(), 12u);  // 2 CAs, 3 x (server, peer, API), admin
    EXPECT_EQ(r.rows[0].name, "ca");
    EXPECT_EQ(r.rows[1].name, "peer-ca");
    EXPECT_THAT(r.rows[0].used_by, ElementsAre("a", "b", "c", "admin"));
    EXPECT_THAT(r.rows[1].used_by, ElementsAre("a", "b", "c"));
    EXPECT_EQ(r.rows[0].issuer, "");
    const ExpiryRow& peer = row(r, "c-peer");
    EXPECT_EQ(peer.kind->kind, CertKind::NodePeer);
    EXPECT_EQ(peer.issuer, "peer-ca");
    EXPECT_EQ(peer.file, "c/c-peer.pem");
    EXPECT_THAT(peer.used_by, ElementsAre("c"));
    const ExpiryRow& api = row(r, "b-api");
    EXPECT_EQ(api.not_after, kNotAfter);
    EXPECT_EQ(api.left, pki::Duration(2000h));
    EXPECT_EQ(api.issuer, "ca");
    EXPECT_EQ(api.serial, pki::Certificate::from_pem(dir_.files.at("b/b-api.pem").content, "b").serial_decimal());
}

TEST_F(ExpiryTest, TheWindowDecidesDueAndNotAfterDecidesExpired) {
    EXPECT_EQ(at(kNotAfter - 721h).due(), 0u);
    EXPECT_EQ(row(at(kNotAfter - 719h), "b-api").state, ExpiryState::Due);
    EXPECT_EQ(at(kNotAfter - 719h).due(), 1u);
    EXPECT_EQ(at(kNotAfter - 719h, 100h).due(), 0u);  // a shorter window
    const ExpiryReport gone = at(kNotAfter + 49h);
    EXPECT_EQ(row(gone, "b-api").state, ExpiryState::Expired);
    EXPECT_EQ(row(gone, "b-api").left, -pki::Duration(49h));
    EXPECT_EQ(gone.expired(), 1u);
    EXPECT_EQ(gone.due(), 0u);  // the provisioned leaves have a year left
    EXPECT_EQ(at(kNotAfter).expired(), 1u) << "at not-after it is expired";
    // The provisioned leaves (8760h from the real now) are due once the clock is within 720h of their end.
    EXPECT_EQ(at(pki::Clock::now() + 8760h - 100h).due(), 9u);
}

TEST_F(ExpiryTest, TheWindowIsWithinElseTheRecordedRenewBeforeElse720h) {
    DirSnapshot none;
    EXPECT_EQ(expiry_window(std::nullopt, none), kDefaultRenewBefore);
    none.renew_before = pki::Duration(100h);
    EXPECT_EQ(expiry_window(std::nullopt, none), pki::Duration(100h));
    EXPECT_EQ(expiry_window("1h30m", none), pki::Duration(90min));
    for (const char* bad : {"30d", "-1h", "", "1h 2m"}) {
        try {
            expiry_window(bad, none);
            ADD_FAILURE() << bad << " accepted";
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), Code::Usage) << bad;
            EXPECT_THAT(e.what(), HasSubstr("--within")) << bad;
        }
    }
}

TEST_F(ExpiryTest, TableAndJsonSayTheSame) {
    const ExpiryReport r = at(kNotAfter - 10h);
    const std::string table = expiry_table(r);
    EXPECT_THAT(table, HasSubstr("NAME"));
    EXPECT_THAT(table, HasSubstr("SIGNED BY"));
    EXPECT_THAT(table, HasSubstr(utc_text(kNotAfter)));
    EXPECT_THAT(table, HasSubstr("a,b,c,admin"));
    EXPECT_THAT(table, HasSubstr("1 expire within 720h0m0s"));
    const auto doc = nlohmann::json::parse(expiry_json(r));
    EXPECT_EQ(doc["window"], "720h0m0s");
    EXPECT_EQ(doc["due"], 1);
    EXPECT_EQ(doc["certificates"].size(), 12u);
    for (const auto& c : doc["certificates"]) {
        if (c["name"] != "b-api") continue;
        EXPECT_EQ(c["state"], "renew");
        EXPECT_EQ(c["seconds_left"], 36000);
        EXPECT_EQ(c["left"], "10h 0m");
        EXPECT_EQ(c["not_after"], utc_text(kNotAfter));
        EXPECT_EQ(c["signed_by"], "ca");
        EXPECT_EQ(c["used_by"], nlohmann::json::array({"b"}));
    }
}

TEST(TimeLeft, TwoUnitsAndExpiredSaysAgo) {
    EXPECT_EQ(time_left_text(pki::Duration(8760h)), "365d 0h");
    EXPECT_EQ(time_left_text(pki::Duration(49h + 30min)), "2d 1h");
    EXPECT_EQ(time_left_text(pki::Duration(90min)), "1h 30m");
    EXPECT_EQ(time_left_text(-pki::Duration(25h)), "expired 1d 1h ago");
    EXPECT_EQ(time_left_text(pki::Duration(0)), "expired 0h 0m ago");
}

TEST_F(ExpiryTest, AMissingOrDamagedFileIsAnErrorNamingIt) {
    dir_.files["a/a-peer.pem"].content = "not a certificate";
    try {
        at(kNotAfter);
        FAIL() << "a damaged certificate was reported";
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), HasSubstr("a/a-peer.pem"));
    }
}

// provision records the spec's renew-before in DIR's manifest, and read_dir gives it back.
TEST(ExpiryWindow, ProvisionRecordsRenewBeforeForCheckExpiration) {
    trellis::testing::TempDir tmp;
    Spec spec = plan_fixture::spec_of(plan_fixture::kThree + "pki: {renew-before: 100h}\n");
    provision(spec, tmp.path(), {});
    const DirSnapshot dir = read_dir(tmp.path());
    ASSERT_TRUE(dir.renew_before);
    EXPECT_EQ(*dir.renew_before, pki::Duration(100h));
    EXPECT_EQ(expiry_window(std::nullopt, dir), pki::Duration(100h));
}

}  // namespace
}  // namespace trellis::cluster
