#include "core/url.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"

namespace trellis {
namespace {

std::string why_not(std::string_view text, UrlKind kind) {
    std::string why;
    if (try_parse_url(text, kind, &why)) return "(accepted)";
    return why;
}

TEST(Url, ParsesSchemeHostAndPort) {
    const Url a = parse_url("https://127.0.0.11:2379", UrlKind::Client, "x");
    EXPECT_EQ(a.scheme, "https");
    EXPECT_EQ(a.host, "127.0.0.11");
    EXPECT_EQ(a.port, 2379);
    EXPECT_TRUE(a.tls());
    EXPECT_EQ(a.text(), "https://127.0.0.11:2379");
    const Url v6 = parse_url("http://[::1]:2380", UrlKind::Peer, "x");
    EXPECT_EQ(v6.host, "::1");
    EXPECT_FALSE(v6.tls());
    EXPECT_EQ(v6.host_port(), "[::1]:2380");
    EXPECT_EQ(parse_url("https://backend-1.example.com:2379", UrlKind::Peer, "x").host, "backend-1.example.com");
}

// Former disagreement: cluster's parser accepted unix:// everywhere (then the client failed), the
// store's refused it everywhere. Now: where etcd takes it and Trellis never dials it, accepted.
TEST(Url, UnixSocketsWhereEtcdTakesThemAndNotWhereTrellisDials) {
    const Url listen = parse_url("unix://localhost:2379", UrlKind::Listen, "x");
    EXPECT_TRUE(listen.unix_socket());
    EXPECT_EQ(listen.text(), "unix://localhost:2379");
    EXPECT_TRUE(parse_url("unixs://localhost:2380", UrlKind::Peer, "x").tls());
    EXPECT_NE(why_not("unix://localhost:2379", UrlKind::Client).find("cannot use a unix socket"), std::string::npos);
    EXPECT_NE(why_not("unix://localhost:8080", UrlKind::Api).find("not on a unix socket"), std::string::npos);
    // etcd's form is unix://host:port (the socket file is named "host:port"); a path is refused, as etcd does.
    EXPECT_NE(why_not("unix:///run/etcd.sock", UrlKind::Listen), "(accepted)");
}

// Former disagreement: the store defaulted to port 80/443, cluster refused. Now refused everywhere,
// with an example of the kind's own port (a peer URL never suggests https://HOST:443).
TEST(Url, PortIsRequiredAndTheHintFitsTheKind) {
    EXPECT_NE(why_not("http://127.0.0.1", UrlKind::Client).find("port is missing"), std::string::npos);
    EXPECT_NE(why_not("https://backend-1/", UrlKind::Api).find("https://10.0.0.1:8080"), std::string::npos);
    const std::string peer = why_not("https://10.0.0.2", UrlKind::Peer);
    EXPECT_NE(peer.find("https://10.0.0.1:2380"), std::string::npos) << peer;
    EXPECT_EQ(peer.find(":443"), std::string::npos) << peer;
}

// Former disagreement: cluster refused "a_b", the store took it. Now one rule (core/host.hpp): accepted,
// as etcd's URL parser accepts it.
TEST(Url, UnderscoreInHostIsAcceptedEverywhereAHostNameIs) {
    EXPECT_EQ(parse_url("https://a_b:2379", UrlKind::Client, "x").host, "a_b");
    EXPECT_EQ(parse_url("https://a_b:2380", UrlKind::Peer, "x").host, "a_b");
    EXPECT_NE(why_not("https://a_b:2379", UrlKind::Listen).find("IP address (or localhost)"), std::string::npos);
}

TEST(Url, ListenUrlsAreIpOrLocalhostAsEtcdBinds) {
    EXPECT_TRUE(try_parse_url("https://0.0.0.0:2379", UrlKind::Listen));
    EXPECT_TRUE(try_parse_url("https://localhost:2379", UrlKind::Listen));
    EXPECT_TRUE(try_parse_url("https://[::]:2380", UrlKind::Listen));
    EXPECT_FALSE(try_parse_url("https://backend-1:2379", UrlKind::Listen));
}

TEST(Url, PathsOnlyAsATrailingSlashOfAnApiUrl) {
    EXPECT_EQ(parse_url("https://127.0.0.1:8080/", UrlKind::Api, "x").text(), "https://127.0.0.1:8080");
    EXPECT_NE(why_not("https://127.0.0.1:2379/", UrlKind::Client).find("not \"/\""), std::string::npos);
    EXPECT_NE(why_not("https://127.0.0.1:8080/v2", UrlKind::Api), "(accepted)");
}

TEST(Url, RefusesMalformedNamingWhereAndWhy) {
    const std::pair<const char*, const char*> cases[] = {
        {"127.0.0.1:2379", "expected scheme://host:port"},
        {"ftp://127.0.0.1:2379", "the scheme must be http or https"},
        {"https://127.0.0.1:99999", "is not a number from 1 to 65535"},
        {"https://127.0.0.1:0", "is not a number from 1 to 65535"},
        {"https://127.0.0.1:x", "is not a number from 1 to 65535"},
        {"https://:2379", "the host is empty"},
        {"https://::1:2379", "must be written in brackets"},
        {"https://[::1:2379", "unclosed"},
        {"https://[backend]:2379", "is not an IPv6 address"},
        {"https://bad-:2379", "starting or ending with '-'"},
        {"https://127.0.0.1:2379/v3", "only scheme://host:port"},
        {"https://user@127.0.0.1:2379", "only scheme://host:port"},
    };
    for (const auto& [text, why] : cases) {
        try {
            parse_url(text, UrlKind::Client, "peer-addrs");
            ADD_FAILURE() << text << " was accepted";
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), Code::InputInvalidValue);
            EXPECT_NE(std::string(e.what()).find("peer-addrs"), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
        }
    }
}

// Former disagreement: api-listen-address without a port bound port 80. Now an error.
TEST(HostPort, ListenAddressNeedsAPort) {
    EXPECT_EQ(parse_host_port("[::]:8080", "x").host, "::");
    EXPECT_EQ(parse_host_port("127.0.0.1:8080", "x").port, 8080);
    EXPECT_EQ(parse_host_port("[::1]:8080", "x").text(), "[::1]:8080");
    std::string why;
    EXPECT_FALSE(try_parse_host_port("127.0.0.1", &why));
    EXPECT_NE(why.find("port is missing"), std::string::npos) << why;
    try {
        parse_host_port("0.0.0.0", "backend.yml:3: api-listen-address", Code::ConfigInvalid);
        ADD_FAILURE();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), Code::ConfigInvalid);
        EXPECT_NE(std::string(e.what()).find("api-listen-address"), std::string::npos);
    }
}

}  // namespace
}  // namespace trellis
