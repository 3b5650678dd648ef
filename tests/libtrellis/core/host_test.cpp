#include "core/host.hpp"

#include <gtest/gtest.h>

namespace trellis {
namespace {

TEST(Host, ClassifiesIpLiterals) {
    EXPECT_TRUE(is_ipv4("127.0.0.11"));
    EXPECT_FALSE(is_ipv4("10.0.0.256"));
    EXPECT_TRUE(is_ipv6("::1"));
    EXPECT_FALSE(is_ipv6("[::1]"));
    EXPECT_TRUE(is_ip("fe80::1"));
    EXPECT_EQ(canonical_ip("0:0:0:0:0:0:0:1"), "::1");
    EXPECT_EQ(canonical_ip("127.0.0.1"), "127.0.0.1");
    EXPECT_FALSE(canonical_ip("backend-1"));
}

TEST(Host, HostNamesFollowOneRuleWithUnderscoresAccepted) {
    for (const char* good : {"backend-1", "node.example.com", "a_b", "_etcd-server._tcp.example.com", "x1"})
        EXPECT_TRUE(is_hostname(good)) << good;
    const std::pair<const char*, const char*> bad[] = {
        {"", "is empty"},
        {"-bad", "starting or ending with '-'"},
        {"bad-", "starting or ending with '-'"},
        {"a..b", "empty label"},
        {"node.example.com.", "empty label"},
        {"a b", "contains ' '"},
        {"10.0.0.256", "looks like an IP address"},
        {"1234", "looks like an IP address"},
    };
    for (const auto& [name, why] : bad) {
        const auto problem = hostname_problem(name);
        ASSERT_TRUE(problem) << name;
        EXPECT_NE(problem->find(why), std::string::npos) << name << ": " << *problem;
    }
    EXPECT_FALSE(is_hostname(std::string(64, 'a')));
    EXPECT_FALSE(is_hostname(std::string(254, 'a')));
}

TEST(Host, AddressBytesRoundTrip) {
    EXPECT_EQ(ip_bytes("127.0.0.1"), (std::vector<unsigned char>{127, 0, 0, 1}));
    EXPECT_EQ(ip_bytes("::1").size(), 16u);
    EXPECT_TRUE(ip_bytes("backend-1").empty());
    const auto v6 = ip_bytes("2001:DB8::1");
    EXPECT_EQ(ip_text(v6.data(), v6.size()), "2001:db8::1");
    EXPECT_EQ(ip_text(v6.data(), 3), "");
}

TEST(Host, WildcardLoopbackAndUrlForm) {
    EXPECT_TRUE(is_wildcard("0.0.0.0"));
    EXPECT_TRUE(is_wildcard("::"));
    EXPECT_TRUE(is_wildcard("0:0::0"));
    EXPECT_FALSE(is_wildcard("127.0.0.1"));
    EXPECT_TRUE(is_loopback("127.0.0.201"));
    EXPECT_TRUE(is_loopback("::1"));
    EXPECT_FALSE(is_loopback("10.0.0.1"));
    EXPECT_FALSE(is_loopback("localhost"));  // a name, not an address: no resolution
    EXPECT_EQ(host_for_url("::1"), "[::1]");
    EXPECT_EQ(host_for_url("10.0.0.1"), "10.0.0.1");
    EXPECT_EQ(host_for_url("backend-1"), "backend-1");
}

}  // namespace
}  // namespace trellis
