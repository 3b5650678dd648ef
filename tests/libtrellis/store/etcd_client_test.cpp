// The store client and health checks against real etcd 3.4 members on 127.0.0.41-43
// (plain http) and 127.0.0.44 (mTLS), ports of our own to stay clear of other tests.
#include "store/etcd_client.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "core/error.hpp"
#include "store/health.hpp"
#include "support.hpp"
#include "test_etcd.hpp"
#include "test_pki.hpp"

namespace trellis::store {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;
using testing::TestEtcd;
using testing::TestEtcdSpec;

TestEtcdSpec spec(std::string name, std::string ip, int client_port, int peer_port, std::string cluster = {},
                  std::string token = "trellis-test") {
    TestEtcdSpec s;
    s.name = std::move(name);
    s.ip = std::move(ip);
    s.client_port = client_port;
    s.peer_port = peer_port;
    s.initial_cluster = std::move(cluster);
    s.token = std::move(token);
    return s;
}

ClientOptions plain(std::vector<std::string> endpoints) {
    return ClientOptions{std::move(endpoints), {}, 1000ms, 3000ms};
}

std::string what_of(const std::function<void()>& f, Code expected) {
    try {
        f();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), expected) << e.what();
        return e.what();
    }
    ADD_FAILURE() << "no error thrown";
    return {};
}

class PlainEtcd : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        dir_ = new TempDir;
        etcd_ = new TestEtcd(dir_->path() / "s1", spec("s1", "127.0.0.41", 23791, 23801));
        etcd_->start();
        etcd_->wait_ready();
    }
    static void TearDownTestSuite() {
        delete etcd_;
        delete dir_;
    }
    static inline TempDir* dir_ = nullptr;
    static inline TestEtcd* etcd_ = nullptr;
};

TEST_F(PlainEtcd, PutThenGetRoundTripsBinaryValues) {
    EtcdClient client(plain({etcd_->client_url()}));
    const std::string value("bytes\0with\xff nul and high bits", 30);
    client.put("/trellis/test/a", value);
    EXPECT_EQ(client.get("/trellis/test/a"), value);
    EXPECT_EQ(client.get("/trellis/test/a", true), value);
    EXPECT_EQ(client.get("/trellis/test/missing"), std::nullopt);
}

TEST_F(PlainEtcd, MemberListNamesTheMemberWithItsUrlsAndHeader) {
    EtcdClient client(plain({etcd_->client_url()}));
    const MemberList list = client.member_list();
    ASSERT_EQ(list.members.size(), 1u);
    EXPECT_EQ(list.members[0].name, "s1");
    EXPECT_NE(list.members[0].id, 0u);
    EXPECT_EQ(list.members[0].peer_urls, std::vector<std::string>{etcd_->peer_url()});
    EXPECT_EQ(list.members[0].client_urls, std::vector<std::string>{etcd_->client_url()});
    const Status status = client.status();
    EXPECT_EQ(status.header.cluster_id, list.header.cluster_id);
    EXPECT_EQ(status.leader, list.members[0].id);
    EXPECT_EQ(status.version, "3.4.23");
    EXPECT_TRUE(client.alarms().empty());
}

TEST_F(PlainEtcd, AddUpdateRemoveALearnerAndEtcdReasonsOnRefusal) {
    EtcdClient client(plain({etcd_->client_url()}));
    // A learner does not count towards quorum, so adding one never stalls this one-member cluster.
    const MemberChange added = client.member_add({"http://127.0.0.41:23811"}, true);
    ASSERT_TRUE(added.member.has_value());
    EXPECT_TRUE(added.member->is_learner);
    EXPECT_EQ(added.members.size(), 2u);
    const auto id = added.member->id;

    const std::string dup =
        what_of([&] { client.member_add({"http://127.0.0.41:23811"}, true); }, Code::StoreRequestFailed);
    EXPECT_NE(dup.find("etcdserver: "), std::string::npos) << dup;

    const MemberChange updated = client.member_update(id, {"http://127.0.0.41:23812"});
    bool seen = false;
    for (const auto& m : updated.members)
        if (m.id == id) seen = m.peer_urls == std::vector<std::string>{"http://127.0.0.41:23812"};
    EXPECT_TRUE(seen);

    EXPECT_EQ(client.member_remove(id).members.size(), 1u);
    const std::string gone = what_of([&] { client.member_remove(id); }, Code::MemberNotFound);
    EXPECT_NE(gone.find("member not found"), std::string::npos) << gone;
    try {
        client.member_remove(id);
    } catch (const StoreError& e) {
        EXPECT_EQ(e.grpc_code(), static_cast<int>(GrpcCode::NotFound));
    }
    what_of([&] { client.member_add({"127.0.0.41:23811"}); }, Code::InputInvalidValue);
}

TEST_F(PlainEtcd, FailsOverFromADeadEndpointAndNamesEveryFailure) {
    EtcdClient client(plain({"http://127.0.0.41:23799", etcd_->client_url()}));
    EXPECT_EQ(client.member_list().members.size(), 1u);

    EtcdClient dead(plain({"http://127.0.0.41:23799", "http://127.0.0.41:23798"}));
    const std::string why = what_of([&] { dead.member_list(); }, Code::ConnectFailed);
    EXPECT_NE(why.find("dial tcp 127.0.0.41:23799: connect: connection refused"), std::string::npos) << why;
    EXPECT_NE(why.find("127.0.0.41:23798"), std::string::npos) << why;
}

TEST_F(PlainEtcd, HttpsClientAgainstHttpServerSaysItDoesNotSpeakTls) {
    EtcdClient client(plain({"https://127.0.0.41:23791"}));
    const std::string why = what_of([&] { client.member_list(); }, Code::TlsFailed);
    // Not OpenSSL's reason, which varies with timing: etcd's answer to a plain HTTP request.
    EXPECT_EQ(why,
              "https://127.0.0.41:23791: the server does not speak TLS on this port: it answers plain HTTP "
              "(use an http:// URL, or the TLS port)");
}

TEST_F(PlainEtcd, HealthReportsTheMemberHealthyAndAStoppedOneWithDialError) {
    const ClusterHealth health = check_cluster_health(plain({etcd_->client_url()}), 3000ms);
    ASSERT_TRUE(health.error.empty()) << health.error;
    ASSERT_EQ(health.members.size(), 1u);
    EXPECT_TRUE(health.members[0].healthy) << health.members[0].error;
    EXPECT_EQ(health.members[0].name, "s1");
    EXPECT_TRUE(health.healthy());

    const Member gone{42, "gone", {}, {"http://127.0.0.41:23797"}, false};
    const MemberHealth m = check_member(gone, plain({}), 1000ms);
    EXPECT_FALSE(m.healthy);
    EXPECT_EQ(m.error, "dial tcp 127.0.0.41:23797: connect: connection refused");
}

TEST(Health, AnswersWithinItsTimeoutWhenNothingAnswers) {
    // A listener that never accepts: connect succeeds (kernel backlog) but no reply ever comes.
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(23796);
    ::inet_pton(AF_INET, "127.0.0.41", &addr.sin_addr);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(fd, 16), 0);
    const auto start = std::chrono::steady_clock::now();
    const ClusterHealth health = check_cluster_health(plain({"http://127.0.0.41:23796"}), 1500ms);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2500ms);
    EXPECT_FALSE(health.healthy());
    EXPECT_FALSE(health.error.empty());
    ::close(fd);
}

TEST(EtcdMtls, NeedsOurClientCertAndTrustsOnlyItsCa) {
    TempDir dir;
    const auto ca = testing::make_test_ca(dir.path(), "ca");
    const auto node =
        testing::issue_test_cert(ca, dir.path(), "s1", {"127.0.0.44", "127.0.0.1"}, "serverAuth,clientAuth");
    const auto client_pair = testing::issue_test_cert(ca, dir.path(), "client", {}, "clientAuth");
    const auto other_ca = testing::make_test_ca(dir.path(), "other-ca");
    const auto stranger = testing::issue_test_cert(other_ca, dir.path(), "stranger", {}, "clientAuth");
    TestEtcdSpec s = spec("s1", "127.0.0.44", 23791, 23801);
    s.tls = node;
    s.ca = ca;
    TestEtcd etcd(dir.path() / "data", s);
    etcd.start();
    const TlsFiles good{client_pair.cert.string(), client_pair.key.string(), ca.cert.string()};
    etcd.wait_ready(good);

    EtcdClient client({{etcd.client_url()}, good, 1000ms, 3000ms});
    client.put("k", "v");
    EXPECT_EQ(client.get("k"), "v");

    EtcdClient anonymous({{etcd.client_url()}, {"", "", ca.cert.string()}, 1000ms, 3000ms});
    const std::string no_cert = what_of([&] { anonymous.member_list(); }, Code::TlsFailed);
    EXPECT_NE(no_cert.find("the server refused"), std::string::npos) << no_cert;

    EtcdClient wrong(
        {{etcd.client_url()}, {stranger.cert.string(), stranger.key.string(), ca.cert.string()}, 1000ms, 3000ms});
    const std::string wrong_ca = what_of([&] { wrong.member_list(); }, Code::TlsFailed);
    // etcd (Go) says only "bad certificate": the certificate itself tells us why, and it is not key usage.
    EXPECT_NE(
        wrong_ca.find("the server refused our client certificate: it is not signed by the CA in " + ca.cert.string()),
        std::string::npos)
        << wrong_ca;
    EXPECT_EQ(wrong_ca.find("key usage"), std::string::npos) << wrong_ca;

    const auto future = testing::issue_future_test_cert(ca, dir.path(), "future", "clientAuth", "20300101000000Z");
    EtcdClient early(
        {{etcd.client_url()}, {future.cert.string(), future.key.string(), ca.cert.string()}, 1000ms, 3000ms});
    const std::string not_yet = what_of([&] { early.member_list(); }, Code::TlsFailed);
    EXPECT_NE(not_yet.find("the server refused our client certificate: it is not valid yet (valid from 2030-01-01 "
                           "00:00:00 UTC"),
              std::string::npos)
        << not_yet;

    EtcdClient distrust({{etcd.client_url()},
                         {client_pair.cert.string(), client_pair.key.string(), other_ca.cert.string()},
                         1000ms,
                         3000ms});
    const std::string untrusted = what_of([&] { distrust.member_list(); }, Code::TlsFailed);
    EXPECT_NE(untrusted.find("we do not trust the server's certificate"), std::string::npos) << untrusted;
}

TEST(EtcdCluster, HealthSeesAStoppedMemberAndTheOthersStillServe) {
    TempDir dir;
    const std::string cluster = "a=http://127.0.0.41:23802,b=http://127.0.0.42:23802,c=http://127.0.0.43:23802";
    std::vector<std::unique_ptr<TestEtcd>> members;
    for (const auto& [name, ip] : {std::pair{"a", "127.0.0.41"}, {"b", "127.0.0.42"}, {"c", "127.0.0.43"}}) {
        members.push_back(
            std::make_unique<TestEtcd>(dir.path() / name, spec(name, ip, 23792, 23802, cluster, "health-test")));
        members.back()->start();
    }
    for (auto& m : members) m->wait_ready();
    auto options = plain({members[0]->client_url(), members[1]->client_url()});
    EXPECT_TRUE(check_cluster_health(options, 3000ms).healthy());
    // As the API asks: the members seen last are read beside the member list, and a guess the list no longer
    // bears out (a member since replaced) is dropped for the members the list names.
    options.known_members = std::make_shared<KnownMembers>();
    EXPECT_TRUE(check_cluster_health(options, 3000ms).healthy());
    const std::vector<Member> seen = options.known_members->get();
    ASSERT_EQ(seen.size(), 3u);
    options.known_members->set({seen[0], seen[1], {1, "ghost", {}, {"http://127.0.0.44:23792"}, false}});
    const ClusterHealth guessed_wrong = check_cluster_health(options, 3000ms);
    EXPECT_TRUE(guessed_wrong.healthy());
    ASSERT_EQ(guessed_wrong.members.size(), 3u);
    for (const auto& m : guessed_wrong.members) EXPECT_NE(m.name, "ghost");
    EXPECT_EQ(options.known_members->get().size(), 3u);
    EXPECT_EQ(options.known_members->get()[2].name, seen[2].name);

    members[2]->process().stop();
    const auto start = std::chrono::steady_clock::now();
    const ClusterHealth health = check_cluster_health(options, 2000ms);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 3000ms);
    ASSERT_EQ(health.members.size(), 3u);
    for (const auto& m : health.members) {
        EXPECT_EQ(m.healthy, m.name != "c") << m.name << ": " << m.error;
        if (m.name == "c") {
            EXPECT_EQ(m.error, "dial tcp 127.0.0.43:23792: connect: connection refused");
        }
    }
    EXPECT_FALSE(health.healthy());
    EtcdClient client(options);
    client.put("written-with-one-down", "yes");
    EXPECT_EQ(client.get("written-with-one-down"), "yes");

    // Quorum lost: the remaining member is up but cannot serve a linearizable read.
    members[1]->process().stop();
    const ClusterHealth lost = check_cluster_health(plain({members[0]->client_url()}), 2000ms);
    ASSERT_EQ(lost.members.size(), 3u);
    for (const auto& m : lost.members) EXPECT_FALSE(m.healthy) << m.name;
}

}  // namespace
}  // namespace trellis::store
