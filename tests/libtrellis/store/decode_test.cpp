#include <gtest/gtest.h>

#include "core/error.hpp"
#include "store/etcd_client.hpp"

namespace trellis::store {
namespace {

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
