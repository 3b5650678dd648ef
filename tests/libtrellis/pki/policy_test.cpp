#include "pki/policy.hpp"

#include <gtest/gtest.h>
#include <openssl/x509v3.h>

#include <set>

#include "helpers.hpp"

namespace trellis::pki {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using test::throws_code;

// The guide's ca-config.json, verbatim.
constexpr const char* kGuideConfig =
    R"({"signing":{"default":{"expiry":"43800h","usages":["signing","key encipherment","server auth","client auth"]}}})";

TEST(Duration, ParsesGoSyntax) {
    const std::pair<const char*, Duration> cases[] = {
        {"43800h", hours(43800)}, {"8760h0m0s", hours(8760)}, {"1h30m", minutes(90)}, {"90s", seconds(90)},
        {"1.5h", minutes(90)},    {"0", seconds(0)},          {"5m", minutes(5)},     {"1500ms", seconds(1)},
        {"+2h", hours(2)},        {"1h1m1s", seconds(3661)},  {".5m", seconds(30)},
    };
    for (const auto& [text, expected] : cases) EXPECT_EQ(parse_duration(text, "t"), expected) << text;
}

TEST(Duration, RejectsWhatGoRejects) {
    for (const char* bad : {"", "1", "h", "1d", "-5m", "1.h5", "1hh", "ten minutes", "1 h", "9999999999h"})
        EXPECT_TRUE(throws_code([&] { parse_duration(bad, "signing.default.expiry"); }, Code::PolicyBadDuration))
            << bad;
    const std::string msg = test::error_message([] { parse_duration("1y", "ca-config.json: signing.default.expiry"); });
    EXPECT_TRUE(msg.starts_with("ca-config.json: signing.default.expiry: \"1y\"")) << msg;
}

TEST(Duration, FormatsLikeGo) {
    EXPECT_EQ(format_duration(hours(43800)), "43800h0m0s");
    EXPECT_EQ(format_duration(seconds(90)), "1m30s");
    EXPECT_EQ(format_duration(seconds(0)), "0s");
    EXPECT_EQ(format_duration(seconds(59)), "59s");
    EXPECT_EQ(format_duration(hours(1)), "1h0m0s");
}

TEST(Usages, OneTableCoversEveryCfsslName) {
    const std::set<std::string> cfssl = {"signing",
                                         "digital signature",
                                         "content commitment",
                                         "key encipherment",
                                         "key agreement",
                                         "data encipherment",
                                         "cert sign",
                                         "crl sign",
                                         "encipher only",
                                         "decipher only",
                                         "any",
                                         "server auth",
                                         "client auth",
                                         "code signing",
                                         "email protection",
                                         "s/mime",
                                         "ipsec end system",
                                         "ipsec tunnel",
                                         "ipsec user",
                                         "timestamping",
                                         "ocsp signing",
                                         "microsoft sgc",
                                         "netscape sgc"};
    std::set<std::string> ours;
    for (const auto& u : usage_table()) {
        ours.emplace(u.name);
        EXPECT_TRUE((u.key_usage == 0) != (u.ext_key_usage_nid == 0)) << u.name;
    }
    EXPECT_EQ(ours, cfssl);
    EXPECT_EQ(find_usage("server auth")->ext_key_usage_nid, NID_server_auth);
    EXPECT_EQ(find_usage("cert sign")->key_usage, KU_KEY_CERT_SIGN);
    EXPECT_EQ(find_usage("Server Auth"), nullptr);
    EXPECT_EQ(key_usage_bits({"signing", "key encipherment", "server auth"}),
              KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT);
    EXPECT_EQ(ext_key_usage_nids({"server auth", "client auth", "server auth"}),
              (std::vector<int>{NID_server_auth, NID_client_auth}));
}

TEST(SigningPolicy, ReadsTheGuidesConfig) {
    const SigningPolicy p = parse_signing_policy(kGuideConfig, "ca-config.json");
    EXPECT_EQ(p.default_profile.expiry, hours(43800));
    EXPECT_EQ(p.default_profile.backdate, minutes(5));
    EXPECT_EQ(p.default_profile.usages,
              (std::vector<std::string>{"signing", "key encipherment", "server auth", "client auth"}));
    EXPECT_TRUE(p.profiles.empty());
}

TEST(SigningPolicy, UnknownProfileFallsBackWithAWarningOrFailsWhenStrict) {
    const SigningPolicy p = parse_signing_policy(kGuideConfig, "ca-config.json");
    Warnings w;
    EXPECT_EQ(&p.profile("peer", false, w), &p.default_profile);
    ASSERT_EQ(w.size(), 1u);
    EXPECT_NE(w[0].find("\"peer\""), std::string::npos) << w[0];
    EXPECT_TRUE(throws_code([&] { p.profile("peer", true, w); }, Code::PolicyUnknownProfile));
    Warnings none;
    EXPECT_EQ(&p.profile("", true, none), &p.default_profile);
    EXPECT_TRUE(none.empty());
}

TEST(SigningPolicy, ReadsEveryProfileField) {
    const char* json = R"({"signing":{
        "default":{"expiry":"8760h","usages":["signing"]},
        "profiles":{"intermediate":{
            "usages":["cert sign","crl sign"], "expiry":"1h30m", "backdate":"1h",
            "ca_constraint":{"is_ca":true,"max_path_len":2,"max_path_len_zero":false},
            "not_before":"2025-01-02T03:04:05Z", "not_after":"2026-01-02T05:04:05+02:00",
            "name_whitelist":"^[a-z.]+$", "crl_url":"http://127.0.0.1/crl", "ocsp_url":"http://127.0.0.1/ocsp",
            "issuer_urls":["http://127.0.0.1/ca.der"]}}}})";
    const SigningPolicy p = parse_signing_policy(json, "c.json");
    Warnings w;
    const Profile& i = p.profile("intermediate", true, w);
    EXPECT_EQ(i.expiry, minutes(90));
    EXPECT_EQ(i.backdate, hours(1));
    EXPECT_TRUE(i.is_ca);
    EXPECT_EQ(i.max_path_len, 2);
    EXPECT_EQ(std::chrono::system_clock::to_time_t(*i.not_before), 1735787045);
    EXPECT_EQ(std::chrono::system_clock::to_time_t(*i.not_after), 1735787045 + 365 * 86400);
    EXPECT_EQ(*i.name_whitelist, "^[a-z.]+$");
    EXPECT_EQ(i.crl_url, "http://127.0.0.1/crl");
    EXPECT_EQ(i.ocsp_url, "http://127.0.0.1/ocsp");
    EXPECT_EQ(i.issuer_urls, std::vector<std::string>{"http://127.0.0.1/ca.der"});
}

TEST(SigningPolicy, ToleratesCfsslKeysItDoesNotActOnWithAWarning) {
    const char* json =
        R"({"signing":{"default":{"expiry":"1h","usages":["signing"],"auth_key":"k","ocsp_no_check":false,
        "copy_extensions":true,"lint_error_level":0}}, "auth_keys":{"k":{"type":"standard","key":"0123"}}, "remotes":{}})";
    Warnings w;
    parse_signing_policy(json, "c.json", w);
    // auth_key, copy_extensions and auth_keys are set; false/0/empty values say nothing.
    ASSERT_EQ(w.size(), 3u) << ::testing::PrintToString(w);
    EXPECT_NE(w[0].find("signing.default.auth_key"), std::string::npos) << w[0];
}

TEST(SigningPolicy, BadInputHasStableCodes) {
    struct Case {
        const char* json;
        Code code;
        const char* mentions;
    };
    const Case cases[] = {
        {R"({"signing":)", Code::InputMalformed, "c.json:1:"},
        {R"([])", Code::InputWrongType, "document"},
        {R"({})", Code::PolicyInvalid, "signing"},
        {R"({"signing":{"default":{"expiry":"1h","usages":["signing","server auht"]}}})", Code::PolicyUnknownUsage,
         "did you mean \"server auth\""},
        {R"({"signing":{"profiles":{"peer":{"expiry":"1h","usages":["sigining"]}}}})", Code::PolicyUnknownUsage,
         "profile \"peer\""},
        {R"({"signing":{"profiles":{"peer":{"expiry":"1h","usages":[]}}}})", Code::PolicyNoUsages,
         "signing.profiles.peer.usages"},
        {R"({"signing":{"profiles":{"peer":{"expiry":"1h"}}}})", Code::PolicyNoUsages, "peer"},
        {R"({"signing":{"default":{"expiry":"1 year","usages":["signing"]}}})", Code::PolicyBadDuration, "expiry"},
        {R"({"signing":{"default":{"usages":["signing"]}}})", Code::PolicyBadDuration, "no expiry"},
        // A default may lack usages (cfssl's remote-signer recipe), so the typo is what is named.
        {R"({"signing":{"default":{"expiry":"1h","usage":["signing"]}}})", Code::InputUnknownKey,
         "did you mean \"usages\""},
        {R"({"signing":{"default":{"expiry":"1h","usages":["signing"],"expiri":"2h"}}})", Code::InputUnknownKey,
         "did you mean \"expiry\""},
        {R"({"signing":{"default":{"expiry":8760,"usages":["signing"]}}})", Code::InputWrongType, "expiry"},
        {R"({"signing":{"default":{"expiry":"1h","usages":"signing"}}})", Code::InputWrongType, "usages"},
        {R"({"signing":{"default":{"expiry":"1h","usages":["signing"],"name_whitelist":"(["}}})", Code::PolicyInvalid,
         "name_whitelist"},
        {R"({"signing":{"default":{"expiry":"1h","usages":["signing"],"not_before":"yesterday"}}})",
         Code::PolicyInvalid, "not_before"},
        {R"({"signing":{"default":{"expiry":"1h","usages":["signing"],"not_before":"2025-01-02T00:00:00Z",
            "not_after":"2024-01-02T00:00:00Z"}}})",
         Code::PolicyInvalid, "not_after"},
        {R"({"signing":{"default":{"expiry":"1h","usages":["signing"],"ca_constraint":{"is_ca":"yes"}}}})",
         Code::InputWrongType, "ca_constraint.is_ca"},
        {R"({"signing":{"default":{"expiry":"1h","usages":["signing"]}},"signin":{}})", Code::InputUnknownKey,
         "signin"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.json);
        EXPECT_TRUE(throws_code([&] { parse_signing_policy(c.json, "c.json"); }, c.code));
        const std::string msg = test::error_message([&] { parse_signing_policy(c.json, "c.json"); });
        EXPECT_NE(msg.find(c.mentions), std::string::npos) << msg;
        EXPECT_TRUE(msg.starts_with("c.json")) << msg;
        EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    }
}

TEST(SigningPolicy, DefaultsOfferPeerServerAndClient) {
    const SigningPolicy builtin = default_signing_policy();
    EXPECT_EQ(builtin.default_profile.expiry, hours(8760));
    EXPECT_EQ(builtin.default_profile.usages.size(), 4u);

    const SigningPolicy p = parse_signing_policy(default_signing_policy_json(), "print-defaults");
    Warnings w;
    const auto eku = [&](const char* name) { return ext_key_usage_nids(p.profile(name, true, w).usages); };
    EXPECT_EQ(eku("peer"), (std::vector<int>{NID_server_auth, NID_client_auth}));
    EXPECT_EQ(eku("server"), (std::vector<int>{NID_server_auth}));
    EXPECT_EQ(eku("client"), (std::vector<int>{NID_client_auth}));
    EXPECT_TRUE(w.empty());
}

}  // namespace
}  // namespace trellis::pki
