#include "cluster/net.hpp"

#include <gtest/gtest.h>

namespace trellis::cluster {
namespace {

TEST(Net, ParsesEtcdUrls) {
    auto u = parse_url("https://127.0.0.11:2379");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->scheme, "https");
    EXPECT_EQ(u->host, "127.0.0.11");
    EXPECT_EQ(u->port, 2379);
    auto v6 = parse_url("http://[::1]:2380");
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->host, "::1");
    EXPECT_EQ(v6->text(), "http://[::1]:2380");
    EXPECT_TRUE(parse_url("https://backend-1.example.com:2379/"));
    EXPECT_TRUE(parse_url("unix:///run/etcd.sock"));
}

TEST(Net, RejectsBrokenUrlsWithAReason) {
    std::string why;
    EXPECT_FALSE(parse_url("10.0.0.1:2379", &why));
    EXPECT_NE(why.find("scheme://"), std::string::npos);
    EXPECT_FALSE(parse_url("ftp://10.0.0.1:2379", &why));
    EXPECT_NE(why.find("http or https"), std::string::npos);
    EXPECT_FALSE(parse_url("https://10.0.0.1", &why));
    EXPECT_NE(why.find("port"), std::string::npos);
    EXPECT_FALSE(parse_url("https://10.0.0.1:99999", &why));
    EXPECT_FALSE(parse_url("https://::1:2379", &why));
    EXPECT_NE(why.find("brackets"), std::string::npos);
    EXPECT_FALSE(parse_url("https://bad_host:2379", &why));
    EXPECT_FALSE(parse_url("https://10.0.0.1:2379/v2/keys", &why));
}

TEST(Net, ClassifiesAddressesAndNames) {
    EXPECT_TRUE(is_ipv4("127.0.0.11"));
    EXPECT_FALSE(is_ipv4("10.0.0.256"));
    EXPECT_TRUE(is_ipv6("::1"));
    EXPECT_EQ(canonical_ip("0:0:0:0:0:0:0:1"), "::1");
    EXPECT_FALSE(canonical_ip("backend-1"));
    EXPECT_TRUE(is_hostname("backend-1"));
    EXPECT_TRUE(is_hostname("node.example.com"));
    EXPECT_FALSE(is_hostname("-bad"));
    EXPECT_FALSE(is_hostname("under_score"));
    EXPECT_FALSE(is_hostname("10.0.0.256"));
    EXPECT_FALSE(is_hostname(""));
    EXPECT_TRUE(is_wildcard("0.0.0.0"));
    EXPECT_TRUE(is_wildcard("::"));
    EXPECT_FALSE(is_wildcard("127.0.0.1"));
    EXPECT_EQ(host_for_url("::1"), "[::1]");
    EXPECT_EQ(host_for_url("10.0.0.1"), "10.0.0.1");
}

}  // namespace
}  // namespace trellis::cluster
