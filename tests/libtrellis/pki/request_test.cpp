#include "pki/request.hpp"

#include <gtest/gtest.h>

#include "helpers.hpp"

namespace trellis::pki {
namespace {

using test::throws_code;

TEST(CertificateRequest, ReadsTheGuidesRequests) {
    Warnings w;
    const auto ca = parse_certificate_request(R"({"CN":"CA","key":{"algo":"rsa","size":2048}})", "-", w);
    EXPECT_EQ(ca.cn, "CA");
    EXPECT_EQ(ca.key.algo, KeyAlgorithm::Rsa);
    EXPECT_EQ(ca.key.size, 2048);
    EXPECT_TRUE(w.empty());

    const auto peer =
        parse_certificate_request(R"({"CN":"backend-1","hosts":[""],"key":{"algo":"rsa","size":2048}})", "-", w);
    EXPECT_EQ(peer.cn, "backend-1");
    EXPECT_EQ(peer.hosts, std::vector<std::string>{""});
    EXPECT_TRUE(w.empty());  // the blank host is reported when it is used (-hostname may replace it)
    const auto sans = classify_hosts(peer.hosts, "hosts", w);
    EXPECT_TRUE(sans.empty());
    ASSERT_EQ(w.size(), 1u);
    EXPECT_NE(w[0].find("empty host"), std::string::npos) << w[0];
}

TEST(CertificateRequest, ReadsEveryField) {
    Warnings w;
    const auto r = parse_certificate_request(R"({"CN":"x","hosts":["a.example"],"key":{"algo":"ecdsa","size":384},
        "names":[{"C":"US","ST":"CA","L":"SF","O":"Org","OU":"Unit","E":"ops@example.com"}],
        "ca":{"pathlen":1,"pathlenzero":false,"expiry":"1h","backdate":"2m"},"serialnumber":"42"})",
                                             "r.json", w);
    EXPECT_EQ(r.key.size, 384);
    ASSERT_EQ(r.names.size(), 1u);
    EXPECT_EQ(r.names[0].OU, "Unit");
    EXPECT_EQ(r.names[0].E, "ops@example.com");
    ASSERT_TRUE(r.ca.has_value());
    EXPECT_EQ(r.ca->pathlen, 1);
    EXPECT_EQ(r.ca->expiry, "1h");
    EXPECT_EQ(r.serialnumber, "42");
}

TEST(CertificateRequest, MissingKeyMeansEcdsaP256) {
    const auto r = test::request_json(R"({"CN":"x"})");
    EXPECT_EQ(r.key.algo, KeyAlgorithm::Ecdsa);
    EXPECT_EQ(r.key.size, 256);
    EXPECT_EQ(test::request_json(R"({"key":{"algo":"rsa"}})").key.size, 2048);
    EXPECT_EQ(test::request_json(R"({"key":{"algo":"ed25519"}})").key.algo, KeyAlgorithm::Ed25519);
}

TEST(CertificateRequest, BadInputHasStableCodes) {
    const std::pair<const char*, Code> cases[] = {
        {R"({"CN":)", Code::InputMalformed},
        {R"("CN")", Code::InputWrongType},
        {R"({"CN":5})", Code::InputWrongType},
        {R"({"hosts":"a.example"})", Code::InputWrongType},
        {R"({"hosts":[1]})", Code::InputWrongType},
        {R"({"key":{"algo":"rsa","size":"2048"}})", Code::InputWrongType},
        {R"({"key":{"algo":"dsa","size":2048}})", Code::KeyUnsupported},
        {R"({"key":{"algo":"rsa","size":1024}})", Code::KeyUnsupported},
        {R"({"key":{"algo":"ecdsa","size":224}})", Code::KeyUnsupported},
        {R"({"key":{"algo":"rsa","size":2048,"bits":1}})", Code::InputUnknownKey},
        {R"({"cn":"x"})", Code::InputUnknownKey},
        {R"({"names":[{"C":"US","X":"y"}]})", Code::InputUnknownKey},
        {R"({"names":{"C":"US"}})", Code::InputWrongType},
        {R"({"ca":{"pathlen":-1}})", Code::CsrInvalid},
        {R"({"ca":{"pathlen":2,"pathlenzero":true}})", Code::CsrInvalid},
        {R"({"ca":{"expiry":"5y"}})", Code::PolicyBadDuration},
        {R"({"hosts":["bad host"]})", Code::CsrBadHost},
    };
    for (const auto& c : cases) {
        const auto& json = c.first;  // a plain reference: clang 14 cannot capture structured bindings
        const auto code = c.second;
        EXPECT_TRUE(throws_code([&] { test::request_json(json); }, code)) << json;
        const std::string msg = test::error_message([&] { test::request_json(json); });
        EXPECT_TRUE(msg.starts_with("test.json")) << msg;
    }
    const std::string msg = test::error_message([] { test::request_json(R"({"cn":"x"})"); });
    EXPECT_NE(msg.find("did you mean \"CN\""), std::string::npos) << msg;
    const std::string algo = test::error_message([] { test::request_json(R"({"key":{"algo":"dsa"}})"); });
    EXPECT_NE(algo.find("key.algo"), std::string::npos) << algo;
    EXPECT_NE(algo.find("ed25519"), std::string::npos) << algo;
}

TEST(Hosts, ClassifiedAsCfsslDoes) {
    Warnings w;
    const auto sans = classify_hosts({"10.0.0.1", "backend-1", "127.0.0.1", "::1", "ops@example.com",
                                      "spiffe://trellis/backend-1", "*.example.net", "2001:DB8::1"},
                                     "hosts", w);
    EXPECT_EQ(sans.ips, (std::vector<std::string>{"10.0.0.1", "127.0.0.1", "::1", "2001:db8::1"}));
    EXPECT_EQ(sans.dns, (std::vector<std::string>{"backend-1", "*.example.net"}));
    EXPECT_EQ(sans.emails, std::vector<std::string>{"ops@example.com"});
    EXPECT_EQ(sans.uris, std::vector<std::string>{"spiffe://trellis/backend-1"});
    EXPECT_TRUE(w.empty()) << ::testing::PrintToString(w);
}

TEST(Hosts, TheGuidesHostnameFlagKeepsTheUnspecifiedAddressWithAWarning) {
    Warnings w;
    const auto sans = classify_hosts(split_hostnames("10.0.0.1,backend-1,127.0.0.1,::"), "-hostname", w);
    EXPECT_EQ(sans.ips, (std::vector<std::string>{"10.0.0.1", "127.0.0.1", "::"}));
    EXPECT_EQ(sans.dns, std::vector<std::string>{"backend-1"});
    ASSERT_EQ(w.size(), 1u);
    EXPECT_NE(w[0].find("unspecified"), std::string::npos);
}

TEST(Hosts, BlankDroppedAndDuplicatesFoldedWithWarnings) {
    Warnings w2;
    const auto s2 = classify_hosts({"", " ", "a.example", "A.EXAMPLE", "::1", "0:0::1"}, "hosts", w2);
    EXPECT_EQ(s2.dns, std::vector<std::string>{"a.example"});
    EXPECT_EQ(s2.ips, std::vector<std::string>{"::1"});
    EXPECT_EQ(w2.size(), 4u) << ::testing::PrintToString(w2);
    Warnings w3;
    EXPECT_TRUE(classify_hosts(split_hostnames(""), "-hostname", w3).empty());
    EXPECT_EQ(w3.size(), 1u);
}

TEST(Hosts, InvalidDnsNamesAreRejected) {
    const std::string long_label(64, 'a');
    std::string long_name;
    for (int i = 0; i < 5; ++i) long_name += std::string(60, 'b') + ".";
    long_name += "com";
    for (const std::string& bad : {std::string("bad_host!"), std::string("a..b"), std::string(".a"), std::string("a."),
                                   long_label + ".com", long_name, std::string("-a.com"), std::string("a.*.com"),
                                   std::string("localhost:8080"), std::string("a b")}) {
        Warnings w;
        EXPECT_TRUE(throws_code([&] { classify_hosts({bad}, "hosts", w); }, Code::CsrBadHost)) << bad;
    }
    Warnings w;
    EXPECT_NO_THROW(classify_hosts({std::string(63, 'a') + ".com", "_etcd-server._tcp.example.com"}, "hosts", w));
}

TEST(Hosts, SplitsTheHostnameFlag) {
    EXPECT_EQ(split_hostnames("a, b ,c"), (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ(split_hostnames("a,,b"), (std::vector<std::string>{"a", "", "b"}));
    EXPECT_EQ(split_hostnames(""), std::vector<std::string>{""});
}

TEST(CertificateRequest, DefaultsParseBack) {
    Warnings w;
    const auto r = parse_certificate_request(default_certificate_request_json(), "print-defaults", w);
    EXPECT_EQ(r.cn, "example.net");
    EXPECT_EQ(r.key.algo, KeyAlgorithm::Ecdsa);
    EXPECT_TRUE(w.empty());
}

}  // namespace
}  // namespace trellis::pki
