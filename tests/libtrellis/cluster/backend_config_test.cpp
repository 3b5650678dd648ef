#include "cluster/backend_config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <set>

namespace trellis::cluster {
namespace {

using ::testing::HasSubstr;

// The guide's backend-1 with peer TLS (its third example).
constexpr const char* kGuidePeer = R"(##
# store configuration for backend-1/10.0.0.1
##

etcd-listen-client-urls: "https://10.0.0.1:2379"
etcd-listen-peer-urls: "https://0.0.0.0:2380"
etcd-initial-cluster: "backend-1=https://10.0.0.1:2380,backend-2=https://10.0.0.2:2380,backend-3=https://10.0.0.3:2380"
etcd-initial-advertise-peer-urls: "https://10.0.0.1:2380"
etcd-initial-cluster-state: "new"
etcd-initial-cluster-token: "sensu"
etcd-name: "backend-1"

etcd-peer-cert-file: "/etc/sensu/certs/backend-1.pem"
etcd-peer-key-file: "/etc/sensu/certs/backend-1-key.pem"
etcd-peer-trusted-ca-file: "/usr/local/share/ca-certificates/sensu/ca.pem"
etcd-peer-client-cert-auth: true
)";

Error load_error(const std::string& text) {
    try {
        BackendConfig::from_yaml(text, "backend.yml");
    } catch (const Error& e) {
        return e;
    }
    ADD_FAILURE() << "expected an error for:\n" << text;
    return Error(Code::Internal, "");
}

TEST(BackendKeys, TableHasEveryGuideKeyWithItsEtcdFlag) {
    const std::vector<std::pair<std::string, std::string>> guide = {
        {"etcd-advertise-client-urls", "--advertise-client-urls"},
        {"etcd-listen-client-urls", "--listen-client-urls"},
        {"etcd-listen-peer-urls", "--listen-peer-urls"},
        {"etcd-initial-cluster", "--initial-cluster"},
        {"etcd-initial-advertise-peer-urls", "--initial-advertise-peer-urls"},
        {"etcd-initial-cluster-state", "--initial-cluster-state"},
        {"etcd-initial-cluster-token", "--initial-cluster-token"},
        {"etcd-name", "--name"},
        {"etcd-cert-file", "--cert-file"},
        {"etcd-key-file", "--key-file"},
        {"etcd-trusted-ca-file", "--trusted-ca-file"},
        {"etcd-client-cert-auth", "--client-cert-auth"},
        {"etcd-peer-cert-file", "--peer-cert-file"},
        {"etcd-peer-key-file", "--peer-key-file"},
        {"etcd-peer-trusted-ca-file", "--peer-trusted-ca-file"},
        {"etcd-peer-client-cert-auth", "--peer-client-cert-auth"},
        {"etcd-cipher-suites", "--cipher-suites"},
        {"etcd-heartbeat-interval", "--heartbeat-interval"},
        {"etcd-election-timeout", "--election-timeout"},
        {"etcd-quota-backend-bytes", "--quota-backend-bytes"},
        {"etcd-max-request-bytes", "--max-request-bytes"},
    };
    for (const auto& [key, flag] : guide) {
        const BackendKey* k = find_backend_key(key);
        ASSERT_NE(k, nullptr) << key;
        EXPECT_EQ(k->etcd_flag, flag) << key;
        EXPECT_FALSE(k->help.empty()) << key;
    }
    for (const char* own :
         {"no-embed-etcd", "state-dir", "etcd-client-urls", "log-level", "api-listen-address", "api-url", "cert-file",
          "key-file", "trusted-ca-file", "etcd-client-cert-file", "etcd-client-key-file"}) {
        const BackendKey* k = find_backend_key(own);
        ASSERT_NE(k, nullptr) << own;
        EXPECT_TRUE(k->etcd_flag.empty()) << own << " is the backend's own key, not an etcd flag";
    }
    EXPECT_EQ(find_backend_key("api-listen-address")->default_value, "[::]:8080");
    EXPECT_EQ(find_backend_key("etcd-peer-client-certauth"), nullptr);
}

TEST(BackendKeys, NamesAndFlagsAreUnique) {
    std::set<std::string_view> keys, flags;
    for (const auto& k : backend_keys()) {
        EXPECT_TRUE(keys.insert(k.key).second) << k.key;
        // Code names keys by enum: each enum value finds its own row and spelling.
        EXPECT_EQ(&backend_key(k.id), &k) << k.key;
        EXPECT_EQ(key_name(k.id), k.key);
        if (!k.etcd_flag.empty()) {
            EXPECT_TRUE(flags.insert(k.etcd_flag).second) << k.etcd_flag;
        }
    }
}

TEST(BackendConfig, TypedAndTypedNamesAgree) {
    BackendConfig c;
    c.set("etcd-name", {"by-name"}, Origin{"test", 0});
    EXPECT_EQ(c.get(Key::EtcdName), "by-name");
    c.set(Key::EtcdName, {"by-key"}, Origin{"test", 0});
    EXPECT_EQ(c.find(Key::EtcdName)->key, "etcd-name");
    EXPECT_EQ(c.get(Key::EtcdName), "by-key");
    EXPECT_FALSE(c.has(Key::EtcdPeerCertFile));
}

TEST(BackendConfig, ParsesTheGuidesPeerExample) {
    const auto c = BackendConfig::from_yaml(kGuidePeer, "/etc/sensu/backend.yml");
    EXPECT_EQ(c.get(Key::EtcdName), "backend-1");
    EXPECT_EQ(c.get(Key::EtcdInitialClusterToken), "sensu");
    EXPECT_TRUE(c.get_bool(Key::EtcdPeerClientCertAuth));
    EXPECT_FALSE(c.get_bool(Key::EtcdClientCertAuth));  // defaulted
    EXPECT_FALSE(c.has(Key::EtcdClientCertAuth));
    EXPECT_EQ(c.get_list(Key::EtcdInitialCluster).size(), 3u);
    EXPECT_EQ(c.get_list(Key::EtcdListenPeerUrls), std::vector<std::string>{"https://0.0.0.0:2380"});
    const Setting* s = c.find(Key::EtcdName);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->origin.to_string(), "/etc/sensu/backend.yml:11");
    EXPECT_EQ(c.get_int(Key::EtcdHeartbeatInterval), 100);
    EXPECT_EQ(c.get(Key::ApiListenAddress), "[::]:8080");
}

TEST(BackendConfig, ListsAcceptYamlSequencesCommasAndSpaces) {
    const auto c = BackendConfig::from_yaml(
        "etcd-listen-client-urls:\n  - https://127.0.0.1:2379\n  - https://127.0.0.11:2379\n"
        "etcd-advertise-client-urls: \"https://127.0.0.11:2379 https://[::1]:2379\"\n"
        "etcd-client-urls: https://10.0.0.1:2379,https://10.0.0.2:2379\n",
        "b.yml");
    EXPECT_EQ(c.get_list(Key::EtcdListenClientUrls).size(), 2u);
    EXPECT_EQ(c.get_list(Key::EtcdAdvertiseClientUrls),
              (std::vector<std::string>{"https://127.0.0.11:2379", "https://[::1]:2379"}));
    EXPECT_EQ(c.get(Key::EtcdClientUrls), "https://10.0.0.1:2379,https://10.0.0.2:2379");
}

TEST(BackendConfig, UnknownKeyNamesLineAndSuggestion) {
    const Error e = load_error("etcd-name: a\n\netcd-peer-client-certauth: true\n");
    EXPECT_EQ(e.code(), Code::ConfigInvalid);
    EXPECT_STREQ(
        e.what(),
        "backend.yml:3: unknown key \"etcd-peer-client-certauth\" (did you mean \"etcd-peer-client-cert-auth\"?)");
}

TEST(BackendConfig, BadValuesNameFileLineAndKey) {
    struct Case {
        std::string yaml;
        std::string expect;
    };
    const std::vector<Case> cases = {
        {"etcd-client-cert-auth: yes\n", "backend.yml:1: etcd-client-cert-auth: expected true or false"},
        {"x: 1\netcd-heartbeat-interval: fast\n", "backend.yml:1: unknown key \"x\""},
        {"etcd-heartbeat-interval: fast\n", "backend.yml:1: etcd-heartbeat-interval: expected a non-negative integer"},
        {"etcd-name: a\netcd-listen-client-urls: 10.0.0.1:2379\n",
         "backend.yml:2: etcd-listen-client-urls: \"10.0.0.1:2379\" is not a URL"},
        {"etcd-name: [a, b]\n", "backend.yml:1: etcd-name: expected a string value"},
        {"etcd-name: a\netcd-name: b\n", "backend.yml:2: etcd-name: set twice"},
        {"- a\n- b\n", "backend.yml:1: expected a mapping"},
        {"etcd-name: a\n  b: [c\n", "backend.yml:"},
    };
    for (const auto& c : cases) {
        const Error e = load_error(c.yaml);
        EXPECT_EQ(e.code(), Code::ConfigInvalid) << c.yaml;
        EXPECT_THAT(e.what(), HasSubstr(c.expect)) << c.yaml;
    }
}

TEST(BackendConfig, AMinimumIsEnforcedWhereAValueIsUsedAndNamesWhereItWasSet) {
    const auto c = BackendConfig::from_yaml("log-level: info\napi-max-connections-per-address: 0\n", "backend.yml");
    EXPECT_EQ(c.get_int(Key::ApiMaxConnections, 1), 1024);  // the default, unset
    EXPECT_EQ(c.get_int(Key::ApiMaxConnectionsPerAddress), 0);
    try {
        c.get_int(Key::ApiMaxConnectionsPerAddress, 1);
        ADD_FAILURE() << "0 connections per address was accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), Code::ConfigInvalid);
        EXPECT_STREQ(e.what(), "backend.yml:2: api-max-connections-per-address: must be at least 1, got 0");
    }
}

// Each URL key is checked at load with etcd's rule for it (core/url.hpp), so a value that etcd or
// trellis-backend's own client would refuse later fails here, with file:line and the reason.
TEST(BackendConfig, UrlKeysFollowTheirKindAtLoad) {
    const std::vector<std::pair<std::string, std::string>> refused = {
        {"etcd-client-urls: unix://localhost:2379\n", "cannot use a unix socket"},
        {"etcd-advertise-client-urls: unix://localhost:2379\n", "cannot use a unix socket"},
        {"etcd-advertise-client-urls: http://127.0.0.1\n", "the port is missing"},
        {"etcd-listen-peer-urls: https://backend-1:2380\n", "IP address (or localhost)"},
        {"etcd-initial-advertise-peer-urls: https://10.0.0.1\n", "e.g. https://10.0.0.1:2380"},
        {"api-listen-address: 0.0.0.0\n", "api-listen-address: \"0.0.0.0\" is not host:port: the port is missing"},
        {"api-url: unix://localhost:8080\n", "not on a unix socket"},
    };
    for (const auto& [yaml, why] : refused) {
        const Error e = load_error(yaml);
        EXPECT_EQ(e.code(), Code::ConfigInvalid) << yaml;
        EXPECT_THAT(e.what(), HasSubstr("backend.yml:1: ")) << yaml;
        EXPECT_THAT(e.what(), HasSubstr(why)) << yaml;
    }
    // etcd listens on unix sockets and takes them as peer URLs; Trellis never dials those.
    const auto ok = BackendConfig::from_yaml(
        "etcd-listen-client-urls: unix://localhost:2379, https://127.0.0.1:2379\n"
        "etcd-initial-advertise-peer-urls: https://a_b:2380\napi-listen-address: \"[::1]:8080\"\napi-url: \"\"\n",
        "backend.yml");
    EXPECT_EQ(ok.get_list(Key::EtcdListenClientUrls).front(), "unix://localhost:2379");
}

TEST(BackendConfig, EmptyFileIsAllDefaults) {
    const auto c = BackendConfig::from_yaml("", "backend.yml");
    EXPECT_TRUE(c.settings().empty());
    EXPECT_EQ(c.get(Key::EtcdInitialClusterState), "new");
}

TEST(BackendConfig, LaterLayersWin) {
    auto c = BackendConfig::from_yaml("etcd-name: from-file\n", "backend.yml");
    c.set(Key::EtcdName, {"from-env"}, Origin{"env TRELLIS_BACKEND_ETCD_NAME"});
    EXPECT_EQ(c.get(Key::EtcdName), "from-env");
    EXPECT_EQ(c.find(Key::EtcdName)->origin.to_string(), "env TRELLIS_BACKEND_ETCD_NAME");
    c.set(Key::EtcdName, {"from-flag"}, Origin{"flag --etcd-name"});
    EXPECT_EQ(c.get(Key::EtcdName), "from-flag");
    try {
        c.set(Key::EtcdClientCertAuth, {"maybe"}, Origin{"flag --etcd-client-cert-auth"});
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), HasSubstr("flag --etcd-client-cert-auth: etcd-client-cert-auth: expected true or false"));
    }
}

TEST(BackendConfig, EnvironmentLayer) {
    EXPECT_EQ(environment_variable("etcd-name"), "TRELLIS_BACKEND_ETCD_NAME");
    ::setenv("TRELLIS_BACKEND_ETCD_INITIAL_CLUSTER_STATE", "existing", 1);
    auto c = BackendConfig::from_yaml("etcd-initial-cluster-state: new\n", "backend.yml");
    c.apply_environment();
    ::unsetenv("TRELLIS_BACKEND_ETCD_INITIAL_CLUSTER_STATE");
    EXPECT_EQ(c.get(Key::EtcdInitialClusterState), "existing");
    EXPECT_EQ(c.find(Key::EtcdInitialClusterState)->origin.source, "env TRELLIS_BACKEND_ETCD_INITIAL_CLUSTER_STATE");
}

TEST(BackendConfig, RelativePathsResolveAgainstTheFilesDirectory) {
    auto c = BackendConfig::from_yaml("etcd-cert-file: certs/node.pem\netcd-key-file: /abs/key.pem\nstate-dir: state\n",
                                      "/srv/node-1/backend.yml");
    EXPECT_EQ(c.get(Key::EtcdCertFile), "/srv/node-1/certs/node.pem");
    EXPECT_EQ(c.find(Key::EtcdCertFile)->values.front(), "certs/node.pem");  // raw value kept
    EXPECT_EQ(c.get(Key::EtcdKeyFile), "/abs/key.pem");
    c.set(Key::EtcdPeerCertFile, {"rel.pem"}, Origin{"flag --etcd-peer-cert-file"});
    EXPECT_EQ(c.get(Key::EtcdPeerCertFile), "rel.pem");  // flags are relative to the cwd
    EXPECT_EQ(c.etcd_client_cert_file(), "/srv/node-1/certs/node.pem");
    c.set(Key::EtcdClientCertFile, {"/x/client.pem"}, Origin{"flag --etcd-client-cert-file"});
    EXPECT_EQ(c.etcd_client_cert_file(), "/x/client.pem");
    const auto args = c.etcd_arguments();
    EXPECT_NE(std::find(args.begin(), args.end(), "--data-dir=/srv/node-1/state/etcd"), args.end());
}

TEST(BackendConfig, EtcdArgumentsFollowTheTable) {
    const auto c =
        BackendConfig::from_yaml(std::string(kGuidePeer) + "etcd-cipher-suites: [A, B]\n", "/etc/sensu/backend.yml");
    const auto args = c.etcd_arguments();
    auto has = [&](const std::string& a) { return std::find(args.begin(), args.end(), a) != args.end(); };
    EXPECT_TRUE(has("--name=backend-1"));
    EXPECT_TRUE(has("--listen-peer-urls=https://0.0.0.0:2380"));
    EXPECT_TRUE(
        has("--initial-cluster=backend-1=https://10.0.0.1:2380,backend-2=https://10.0.0.2:2380,backend-3=https://"
            "10.0.0.3:2380"));
    EXPECT_TRUE(has("--peer-client-cert-auth=true"));
    EXPECT_TRUE(has("--client-cert-auth=false"));
    EXPECT_TRUE(has("--peer-cert-file=/etc/sensu/certs/backend-1.pem"));
    EXPECT_TRUE(has("--cipher-suites=A,B"));
    EXPECT_TRUE(has("--advertise-client-urls=http://127.0.0.1:2379"));  // default from the table
    EXPECT_TRUE(has("--data-dir=/var/lib/trellis/etcd"));
    EXPECT_TRUE(has("--initial-cluster-token=sensu"));
    // Unset TLS files are left out rather than passed empty; backend-only keys never reach etcd.
    for (const auto& a : args) {
        EXPECT_FALSE(a.starts_with("--cert-file=")) << a;
        EXPECT_FALSE(a.starts_with("--no-embed-etcd")) << a;
        EXPECT_FALSE(a.starts_with("--api-")) << a;
    }
}

TEST(BackendConfig, StoreEndpoints) {
    auto c = BackendConfig::from_yaml("etcd-advertise-client-urls: https://127.0.0.11:2379\n", "b.yml");
    EXPECT_EQ(c.store_endpoints(), std::vector<std::string>{"https://127.0.0.11:2379"});
    c = BackendConfig::from_yaml(
        "no-embed-etcd: true\netcd-listen-client-urls: https://10.0.0.1:2379,https://10.0.0.2:2379\n", "b.yml");
    EXPECT_EQ(c.store_endpoints().size(), 2u);
    c.set(Key::EtcdClientUrls, {"https://10.0.0.9:2379"}, Origin{"flag --etcd-client-urls"});
    EXPECT_EQ(c.store_endpoints(), std::vector<std::string>{"https://10.0.0.9:2379"});
}

TEST(ApiTransport, PlainHttpOnlyWhenAskedForAndTlsNeedsBothFiles) {
    const std::string kUndecided =
        "backend.yml: the backend API would be plain HTTP, open to anyone who reaches it: set cert-file and key-file "
        "(and trusted-ca-file to require client certificates), or api-insecure: true to serve plain HTTP on purpose";
    struct Case {
        std::string yaml;
        std::optional<ApiTransport> want;
        std::string message;  // the whole one-line error when refused
    };
    const std::vector<Case> cases{
        {"cert-file: a.pem\nkey-file: a-key.pem\n", ApiTransport::Https, ""},
        {"api-insecure: true\n", ApiTransport::Http, ""},
        {"etcd-name: x\n", std::nullopt, kUndecided},
        // Blank file settings count as unset, as they do for etcd's flags.
        {"cert-file: \"\"\nkey-file: \"\"\n", std::nullopt, kUndecided},
        {"etcd-name: x\ncert-file: a.pem\n", std::nullopt,
         "backend.yml:2: cert-file is set but key-file is not: set key-file to its private key"},
        {"key-file: a-key.pem\n", std::nullopt,
         "backend.yml:1: key-file is set but cert-file is not: set cert-file to its certificate"},
        {"cert-file: a.pem\nkey-file: a-key.pem\napi-insecure: true\n", std::nullopt,
         "backend.yml:3: api-insecure is true but cert-file and key-file are set: remove api-insecure to serve HTTPS"},
        {"api-insecure: true\ncert-file: a.pem\n", std::nullopt,
         "backend.yml:1: api-insecure is true but cert-file is set: remove one of them"},
        {"api-insecure: true\nkey-file: a-key.pem\n", std::nullopt,
         "backend.yml:1: api-insecure is true but key-file is set: remove one of them"},
        {"api-insecure: false\n", std::nullopt, kUndecided},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.yaml);
        const auto config = BackendConfig::from_yaml(c.yaml, "backend.yml");
        if (c.want) {
            EXPECT_EQ(api_transport(config), *c.want);
            continue;
        }
        try {
            api_transport(config);
            ADD_FAILURE() << "accepted";
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), Code::ConfigInvalid);
            EXPECT_EQ(std::string(e.what()), c.message);
        }
    }
    // A flag names itself, as the backend's other messages do.
    BackendConfig flags;
    flags.set(Key::CertFile, {"a.pem"}, Origin{"flag --cert-file", 0});
    try {
        api_transport(flags);
        ADD_FAILURE() << "accepted";
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), HasSubstr("flag --cert-file: cert-file is set but key-file is not"));
    }
    EXPECT_EQ(find_backend_key("api-insecure")->type, KeyType::Bool);
    EXPECT_EQ(find_backend_key("api-insecure")->default_value, "false");
    EXPECT_TRUE(find_backend_key("api-insecure")->etcd_flag.empty()) << "not an etcd flag";
}

}  // namespace
}  // namespace trellis::cluster
