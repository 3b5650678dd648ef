#include "validate.hpp"
#include "store/etcd_client.hpp"

#include <gtest/gtest.h>

#include "code_of.hpp"
#include "core/error.hpp"

namespace trellis::ctl {
namespace {

using testing::code_of;

std::string message_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

TEST(MemberId, ParsesHexAsEtcdPrintsIt) {
    EXPECT_EQ(parse_member_id("2f7ae42c315f8c2d"), 0x2f7ae42c315f8c2dULL);
    EXPECT_EQ(parse_member_id("a32e8f613b529ad4"), 11758493324880812756ULL);  // above 2^63: must stay exact
    EXPECT_EQ(parse_member_id("FFFFFFFFFFFFFFFF"), 0xFFFFFFFFFFFFFFFFULL);
    EXPECT_EQ(parse_member_id("4d2"), 1234u);
}

TEST(MemberId, RejectsWhatIsNotAnIdAsUsage) {
    for (const char* bad : {"", "xyz", "2f7ae42c315f8c2dz", "12345678901234567", "-1", "0x12", " 12", "0", "0000"})
        EXPECT_EQ(code_of([&] { parse_member_id(bad); }), Code::Usage) << bad;
    EXPECT_NE(message_of([] { parse_member_id("xyz", "ID"); }).find("ID: \"xyz\" is not a member ID"),
              std::string::npos);
}

// Formatting is store::hex_id's (tested in tests/libtrellis/store/decode_test.cpp); what ctl adds is
// that what it prints parses back.
TEST(MemberId, PrintedIdsParseBack) {
    for (const std::uint64_t id : {0x4d2ULL, 11758493324880812756ULL})
        EXPECT_EQ(parse_member_id(store::hex_id(id), "ID"), id);
}

TEST(PeerUrls, AcceptsListsSeparatedByCommasOrSpaces) {
    EXPECT_EQ(parse_peer_urls("https://10.0.0.4:2380"), std::vector<std::string>{"https://10.0.0.4:2380"});
    EXPECT_EQ(parse_peer_urls("https://10.0.0.4:2380,http://[::1]:2380 https://node-4.example:2380"),
              (std::vector<std::string>{"https://10.0.0.4:2380", "http://[::1]:2380", "https://node-4.example:2380"}));
    // One host-name rule (core/host.hpp): underscores are accepted, as etcd's own URL parser accepts them.
    EXPECT_EQ(parse_peer_urls("https://node_4:2380"), std::vector<std::string>{"https://node_4:2380"});
}

TEST(PeerUrls, RejectsWhatEtcdWouldRefuseAsUsage) {
    for (const char* bad : {"", ",", "10.0.0.4:2380", "ftp://10.0.0.4:2380", "https://10.0.0.4",
                            "https://10.0.0.4:99999", "https://10.0.0.4:2380/path", "https://::1:2380",
                            "https://10.0.0.300:2380", "https://bad-:2380", "https://:2380", "https://10.0.0.4:2380/"})
        EXPECT_EQ(code_of([&] { parse_peer_urls(bad); }), Code::Usage) << bad;
    EXPECT_NE(message_of([] {
                  parse_peer_urls("https://10.0.0.4");
              }).find("the port is missing (write it, e.g. https://10.0.0.1:2380)"),
              std::string::npos);
}

TEST(ApiUrls, NormaliseAndSplitRepeatedValues) {
    EXPECT_EQ(
        parse_api_urls({"https://127.0.0.11:8080,https://127.0.0.12:8080", "https://127.0.0.13:8080/"}, "--url"),
        (std::vector<std::string>{"https://127.0.0.11:8080", "https://127.0.0.12:8080", "https://127.0.0.13:8080"}));
    // No default port: the API listens on 8080, so "https://backend.example" is a forgotten port, not 443.
    EXPECT_NE(message_of([] { parse_api_urls({"https://backend.example"}, "--url"); }).find("the port is missing"),
              std::string::npos);
    EXPECT_EQ(code_of([] { parse_api_urls({"unix://localhost:8080"}, "--url"); }), Code::Usage);
    EXPECT_EQ(code_of([] { parse_api_urls({"127.0.0.11:8080"}, "--url"); }), Code::Usage);
    EXPECT_EQ(code_of([] { parse_api_urls({""}, "--url"); }), Code::Usage);
    EXPECT_NE(message_of([] { parse_api_urls({"htp://x:1"}, "TRELLISCTL_URL"); }).find("TRELLISCTL_URL: "),
              std::string::npos);
}

TEST(MemberName, RefusesCharactersThatBreakInitialCluster) {
    EXPECT_NO_THROW(check_member_name("backend-4"));
    for (const char* bad : {"", "a=b", "a,b", "a b", "a\"b", "a\tb"})
        EXPECT_EQ(code_of([&] { check_member_name(bad); }), Code::Usage) << bad;
}

TEST(Timeout, AcceptsSecondsAndSuffixes) {
    EXPECT_EQ(parse_timeout_ms("10", "--timeout"), 10000);
    EXPECT_EQ(parse_timeout_ms("1.5", "--timeout"), 1500);
    EXPECT_EQ(parse_timeout_ms("500ms", "--timeout"), 500);
    EXPECT_EQ(parse_timeout_ms("15s", "--timeout"), 15000);
    EXPECT_EQ(parse_timeout_ms("2m", "--timeout"), 120000);
    // Go's grammar, as docs/trellisctl.md promises: up to 1 h, compound durations too.
    EXPECT_EQ(parse_timeout_ms("1h", "--timeout"), 3600000);
    EXPECT_EQ(parse_timeout_ms("1m30s", "--timeout"), 90000);
    EXPECT_EQ(parse_timeout_ms("1ms", "--timeout"), 1);
    for (const char* bad : {"", "s", "ten", "0", "-1s", "2h", "61m", "1h0m1s", "1e9", "nan", "5 s", "1.5.5"})
        EXPECT_EQ(code_of([&] { parse_timeout_ms(bad, "--timeout"); }), Code::Usage) << bad;
}

}  // namespace
}  // namespace trellis::ctl
