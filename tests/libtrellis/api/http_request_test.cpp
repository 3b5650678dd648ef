// The API server's request head and target (libtrellis/api/http_request.hpp): what it accepts, and the
// status each malformed or oversized head is refused with.
#include "api/http_request.hpp"

#include <gtest/gtest.h>

namespace trellis::api {
namespace {

RequestLimits limits() { return RequestLimits{}; }

int refused(std::string_view head) {
    const auto r = parse_request_head(head, limits());
    return std::holds_alternative<HeadRefusal>(r) ? std::get<HeadRefusal>(r).status : 0;
}

TEST(HttpHead, ParsesARequestLineAndHeaders) {
    const auto r = parse_request_head(
        "POST /api/core/v2/cluster/members?peer-addrs=x HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n"
        "X-A: 1\r\nx-a: 2\r\nConnection: close\r\n\r\n",
        limits());
    ASSERT_TRUE(std::holds_alternative<RequestHead>(r)) << std::get<HeadRefusal>(r).message;
    const auto& h = std::get<RequestHead>(r);
    EXPECT_EQ(h.method, "POST");
    EXPECT_EQ(h.target, "/api/core/v2/cluster/members?peer-addrs=x");
    EXPECT_EQ(h.content_length, 12u);
    EXPECT_EQ(h.headers.at("x-a"), "1, 2");
    EXPECT_FALSE(h.keep_alive);
    EXPECT_FALSE(h.expect_continue);
    const auto ten = parse_request_head("GET / HTTP/1.0\r\n\r\n", limits());
    ASSERT_TRUE(std::holds_alternative<RequestHead>(ten));
    EXPECT_FALSE(std::get<RequestHead>(ten).keep_alive);
}

TEST(HttpHead, RefusesWhatIsTooLargeOrMalformed) {
    EXPECT_EQ(refused("GET /health HTTP/1.1\r\nContent-Length: 1\r\n\r\n"), 413);  // GET takes no body
    EXPECT_EQ(refused("POST /x HTTP/1.1\r\nContent-Length: 65537\r\n\r\n"), 413);
    EXPECT_EQ(refused("POST /x HTTP/1.1\r\nContent-Length: 65536\r\n\r\n"), 0);
    EXPECT_EQ(refused("POST /x HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n"), 413);
    EXPECT_EQ(refused("GET /" + std::string(5000, 'a') + " HTTP/1.1\r\n\r\n"), 414);
    EXPECT_EQ(refused("GET / HTTP/1.1\r\nX: " + std::string(9000, 'a') + "\r\n\r\n"), 431);
    EXPECT_EQ(refused("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
    EXPECT_EQ(refused("POST /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"), 400);
    EXPECT_EQ(refused("POST /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n"), 400);
    EXPECT_EQ(refused("GET /x HTTP/2.0\r\n\r\n"), 400);
    EXPECT_EQ(refused("GET  /x HTTP/1.1\r\n\r\n"), 400);
    EXPECT_EQ(refused("GET x HTTP/1.1\r\n\r\n"), 400);
    EXPECT_EQ(refused("GET /x HTTP/1.1\r\nBad Name: 1\r\n\r\n"), 400);
    EXPECT_EQ(refused("GET /x HTTP/1.1\r\n folded\r\n\r\n"), 400);
    EXPECT_EQ(refused("GET /x HTTP/1.1\r\nX: a\nContent-Length: 5\r\n\r\n"), 400);  // a bare LF
    EXPECT_EQ(refused(std::string("GET /x\x01 HTTP/1.1\r\n\r\n")), 400);
}

TEST(HttpTarget, DecodesPathAndQuery) {
    const auto t = split_target("/api/x%2Fy?peer-addrs=https%3A%2F%2F10.0.0.4%3A2380,https://b&name=a+b&name=c&flag");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->first, "/api/x/y");
    EXPECT_EQ(t->second.at("peer-addrs"), "https://10.0.0.4:2380,https://b");
    EXPECT_EQ(t->second.at("name"), "a b");  // the first of a repeated name
    EXPECT_EQ(t->second.at("flag"), "");
    EXPECT_FALSE(split_target("/a%2"));
    EXPECT_FALSE(split_target("/a?b=%zz"));
}

TEST(HttpHead, ExpectContinueOnlyWithABody) {
    const auto with =
        parse_request_head("POST /x HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-Continue\r\n\r\n", limits());
    const auto without = parse_request_head("POST /x HTTP/1.1\r\nExpect: 100-continue\r\n\r\n", limits());
    ASSERT_TRUE(std::holds_alternative<RequestHead>(with) && std::holds_alternative<RequestHead>(without));
    EXPECT_TRUE(std::get<RequestHead>(with).expect_continue);
    EXPECT_FALSE(std::get<RequestHead>(without).expect_continue);
}

}  // namespace
}  // namespace trellis::api
