#include "store/url.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "store/etcd_client.hpp"

namespace trellis::store {
namespace {

TEST(Url, ParsesHostPortAndDefaults) {
    const Url a = parse_url("https://127.0.0.11:2379", "x");
    EXPECT_EQ(a.scheme, "https");
    EXPECT_EQ(a.host, "127.0.0.11");
    EXPECT_EQ(a.port, 2379);
    EXPECT_EQ(a.to_string(), "https://127.0.0.11:2379");
    EXPECT_EQ(parse_url("http://backend-1/", "x").port, 80);
    EXPECT_EQ(parse_url("https://backend-1", "x").port, 443);
    const Url v6 = parse_url("http://[::1]:2380", "x");
    EXPECT_EQ(v6.host, "::1");
    EXPECT_EQ(v6.host_port(), "[::1]:2380");
}

TEST(Url, RejectsWhatEtcdWouldRejectNamingWhereAndWhy) {
    const std::pair<const char*, const char*> cases[] = {
        {"127.0.0.1:2379", "expected scheme://host:port"},
        {"unix://127.0.0.1:2379", "the scheme must be http or https"},
        {"https://127.0.0.1:99999", "the port must be a number"},
        {"https://127.0.0.1:x", "the port must be a number"},
        {"https://:2379", "the host is empty"},
        {"https://::1:2379", "IPv6 addresses must be written in brackets"},
        {"https://[::1:2379", "unclosed"},
        {"https://127.0.0.1:2379/v3", "only scheme://host:port"},
    };
    for (const auto& [text, why] : cases) {
        try {
            parse_url(text, "peer-addrs");
            ADD_FAILURE() << text << " was accepted";
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), Code::InputInvalidValue);
            EXPECT_NE(std::string(e.what()).find("peer-addrs"), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
        }
    }
}

TEST(MemberId, HexRoundTripsAllSixtyFourBits) {
    EXPECT_EQ(hex_id(0xa32e8f613b529ad4ULL), "a32e8f613b529ad4");
    EXPECT_EQ(hex_id(0x4d2), "4d2");  // Go's %x: no leading zeros
    EXPECT_EQ(parse_hex_id("a32e8f613b529ad4", "id"), 11758493324880812756ULL);
    EXPECT_EQ(parse_hex_id("4d2", "id"), 1234u);
    for (const char* bad : {"", "xyz", "a32e8f613b529ad4a", "-1", "12 "}) {
        EXPECT_THROW(parse_hex_id(bad, "id"), Error) << bad;
    }
}

TEST(Decode, GatewayWritesSixtyFourBitIntegersAsStrings) {
    const auto h = decode_header(nlohmann::json::parse(
        R"({"cluster_id":"14841639068965178418","member_id":"10276657743932975437","revision":"7","raft_term":"2"})"));
    EXPECT_EQ(h.cluster_id, 14841639068965178418ULL);
    EXPECT_EQ(h.member_id, 10276657743932975437ULL);
    EXPECT_EQ(h.revision, 7);
    EXPECT_EQ(h.raft_term, 2u);
    const auto m = decode_member(nlohmann::json::parse(
        R"({"ID":"11758493324880812756","name":"backend-1","peerURLs":["https://127.0.0.11:2380"],"clientURLs":["https://127.0.0.11:2379"]})"));
    EXPECT_EQ(m.id, 11758493324880812756ULL);
    EXPECT_EQ(m.name, "backend-1");
    ASSERT_EQ(m.peer_urls.size(), 1u);
    EXPECT_EQ(m.client_urls.at(0), "https://127.0.0.11:2379");
    EXPECT_THROW(decode_header(nlohmann::json::parse(R"({"cluster_id":"12x"})")), Error);
}

}  // namespace
}  // namespace trellis::store
