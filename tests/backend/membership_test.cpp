// Issue 12's membership proofs on the members suite's own hosts (127.0.0.111-116, standard ports), one
// cluster shared by the cases in order: the TLS matrix with /readyz open, a member added right after the
// cluster turns healthy (a learner that ends a voter), a killed member replaced in one command under a
// writer, a removed member that exits 4 and is re-added with its stale data, readiness with one node
// down and at quorum loss; and a node whose WAL is damaged.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <set>
#include <thread>

#include "backend_fixture.hpp"
#include "store/etcd_client.hpp"
#include "test_pki.hpp"

namespace trellis::testing {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;
using namespace std::chrono_literals;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
        out.push_back(text.substr(start, nl - start));
    return out;
}

// GET `path` without a client certificate (verifying the server): status, 0 when no HTTP answer.
int get_anonymous(const ProvisionedCluster& cluster, const std::string& node, const std::string& path,
                  const std::string& cert = "", const std::string& key = "") {
    httplib::Client c(cluster.api_url(node), cert, key);
    c.set_ca_cert_path(cluster.admin_ca().string());
    c.enable_server_certificate_verification(true);
    c.set_connection_timeout(2, 0);
    c.set_read_timeout(5, 0);
    auto res = c.Get(path);
    return res ? res->status : 0;
}

// GET /readyz without a certificate: status (0: no answer) and how long it took.
std::pair<int, Clock::duration> readyz(const ProvisionedCluster& cluster, const std::string& node) {
    const auto t0 = Clock::now();
    const int status = get_anonymous(cluster, node, "/readyz");
    return {status, Clock::now() - t0};
}

class Membership : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        dir_ = new TempDir();
        cluster_ = new ProvisionedCluster(data_path("backend/members-3.yml"), dir_->path());
        for (const auto& n : cluster_->nodes()) nodes_[n] = start(n).release();
    }
    static void TearDownTestSuite() {
        for (auto& [name, n] : nodes_) delete n;
        nodes_.clear();
        delete cluster_;
        delete dir_;
    }
    void TearDown() override {
        if (HasFailure())
            for (const auto& [name, n] : nodes_)
                if (n) std::cerr << "---- " << name << " log (tail):\n" << n->log_tail(4000);
    }
    static std::unique_ptr<ChildProcess> start(const std::string& node, const std::vector<std::string>& extra = {}) {
        std::vector<std::string> args{"--log-level", "info", "--etcd-ready-timeout", "60", "--stop-timeout", "5"};
        args.insert(args.end(), extra.begin(), extra.end());
        return cluster_->start(node, args);
    }
    static void stop(const std::string& node) {
        delete nodes_[node];
        nodes_[node] = nullptr;
    }
    static std::string spec() { return data_path("backend/members-3.yml").string(); }

    // trellisctl with the admin certificate against the given nodes' APIs, run where provision ran.
    static RunResult ctl(const std::vector<std::string>& urls_of, std::vector<std::string> args, int timeout = 90) {
        std::string urls;
        for (const auto& n : urls_of) urls += (urls.empty() ? "" : ",") + cluster_->api_url(n);
        const std::vector<std::string> head{build_path("ctl/trellisctl").string(),
                                            "--url",
                                            urls,
                                            "--trusted-ca-file",
                                            cluster_->admin_ca().string(),
                                            "--cert-file",
                                            cluster_->admin_cert().string(),
                                            "--key-file",
                                            cluster_->admin_key().string()};
        args.insert(args.begin(), head.begin(), head.end());
        return run(args, {}, dir_->path(), timeout);
    }

    // Waits (bounded) until `node`'s /health reports exactly `names`, all healthy.
    static bool wait_healthy(const std::string& node, const std::set<std::string>& names, std::chrono::seconds limit) {
        const auto deadline = Clock::now() + limit;
        auto client = cluster_->api(node);
        while (Clock::now() < deadline) {
            const auto [status, body] = get_health(*client, 2);
            std::set<std::string> healthy;
            if (status == 200)
                for (const auto& m : body["ClusterHealth"]) healthy.insert(m.value("Name", ""));
            if (healthy == names) return true;
            std::this_thread::sleep_for(200ms);
        }
        return false;
    }

    // etcd's own member list (etcdctl, JSON): name -> isLearner, and the hex ID of each.
    static std::map<std::string, std::pair<bool, std::string>> etcd_members(const std::string& via) {
        const auto r = cluster_->etcdctl(via, {"member", "list", "-w", "json"});
        std::map<std::string, std::pair<bool, std::string>> out;
        if (r.exit_code != 0) return out;
        const json doc = json::parse(r.out);  // kept: a range over a temporary's member would dangle
        for (const auto& m : doc["members"]) {
            char hex[17];
            std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(m["ID"].get<std::uint64_t>()));
            out[m.value("name", "")] = {m.value("isLearner", false), hex};
        }
        return out;
    }

    static inline TempDir* dir_ = nullptr;
    static inline ProvisionedCluster* cluster_ = nullptr;
    static inline std::map<std::string, ChildProcess*> nodes_;
};

TEST_F(Membership, ReadyzNeedsNoCertificateAndTheTlsMatrixOfEveryOtherPathIsUnchanged) {
    ASSERT_TRUE(wait_healthy("backend-1", {"backend-1", "backend-2", "backend-3"}, 60s));
    TempDir certs;
    const auto other_ca = make_test_ca(certs.path(), "other-ca");
    const auto stranger = issue_test_cert(other_ca, certs.path(), "stranger", {}, "clientAuth");
    const TestCa cluster_ca{cluster_->ca_cert(), cluster_->ca_key()};
    const auto server_only = issue_test_cert(cluster_ca, certs.path(), "server-only", {"127.0.0.111"}, "serverAuth");
    struct Who {
        std::string what, cert, key;
        int readyz, others;  // expected statuses; 0: refused in the handshake
    };
    const std::vector<Who> who{
        {"no certificate", "", "", 200, 401},
        {"another CA's certificate", stranger.cert.string(), stranger.key.string(), 0, 0},
        {"a server-only certificate", server_only.cert.string(), server_only.key.string(), 0, 0},
        {"the admin certificate", cluster_->admin_cert().string(), cluster_->admin_key().string(), 200, 200},
    };
    for (const auto& w : who) {
        EXPECT_EQ(get_anonymous(*cluster_, "backend-1", "/readyz", w.cert, w.key), w.readyz) << w.what;
        for (const std::string path : {"/health", "/api/core/v2/cluster/members", "/no-such-path"})
            EXPECT_EQ(get_anonymous(*cluster_, "backend-1", path, w.cert, w.key),
                      w.others == 200 && path == "/no-such-path" ? 404 : w.others)
                << w.what << " " << path;
    }
    for (const auto& n : cluster_->nodes()) {
        const auto [status, took] = readyz(*cluster_, n);
        EXPECT_EQ(status, 200) << n;
        EXPECT_LT(took, 1s) << n;
    }
}

TEST_F(Membership, AddRightAfterHealthyNeedsNoRetryJoinsAsALearnerAndEndsAVoter) {
    ASSERT_TRUE(wait_healthy("backend-1", {"backend-1", "backend-2", "backend-3"}, 60s));
    const auto r =
        ctl({"backend-1", "backend-2", "backend-3"},
            {"cluster", "member-add", "backend-4", "https://127.0.0.114:2380", "--render", spec(), "--out", "out"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    const auto added = lines_of(r.out);
    ASSERT_GE(added.size(), 5u) << r.out;
    EXPECT_EQ(added[0].rfind("added member ", 0), 0u) << r.out;
    EXPECT_EQ(added[2], "ETCD_NAME=\"backend-4\"");
    EXPECT_TRUE(contains(added[3], "backend-4=https://127.0.0.114:2380")) << added[3];
    EXPECT_EQ(added[4], "ETCD_INITIAL_CLUSTER_STATE=\"existing\"");
    EXPECT_TRUE(contains(r.out, "joins as a learner")) << r.out;
    const auto before = etcd_members("backend-1");
    ASSERT_EQ(before.size(), 4u);
    bool learner = false;
    for (const auto& [name, m] : before) learner = learner || m.first;  // not yet started: no name, a learner
    EXPECT_TRUE(learner) << "the new member was not added as a learner";

    nodes_["backend-4"] = start("backend-4").release();
    ASSERT_TRUE(wait_healthy("backend-4", {"backend-1", "backend-2", "backend-3", "backend-4"}, 60s));
    const auto after = etcd_members("backend-4");
    ASSERT_EQ(after.count("backend-4"), 1u);
    EXPECT_FALSE(after.at("backend-4").first) << "backend-4 is still a learner";
    EXPECT_TRUE(contains(nodes_["backend-4"]->log(), "waiting for etcd: a learner")) << "it never was a learner";
    std::string promoted;
    for (const auto& n : cluster_->nodes())
        if (contains(nodes_[n]->log(), "promoted learner")) promoted += n;
    EXPECT_FALSE(promoted.empty()) << "no backend says it promoted the learner";
}

// Puts keys through every given etcd client URL (failing over) until stopped, counting every request.
class Writer {
  public:
    Writer(const ProvisionedCluster& cluster, const std::vector<std::string>& nodes) {
        store::ClientOptions options;
        for (const auto& n : nodes) options.endpoints.push_back(cluster.client_url(n));
        options.tls = {cluster.admin_cert().string(), cluster.admin_key().string(), cluster.admin_ca().string()};
        options.connect_timeout = 500ms;
        options.request_timeout = 3000ms;
        thread_ = std::thread([this, options] {
            store::EtcdClient client(options);
            for (int i = 0; !stop_; ++i) {
                const std::string key = "/trellis/writer/" + std::to_string(i);
                ++sent_;
                try {
                    client.put(key, "v" + std::to_string(i));
                    acked_.push_back(key);
                } catch (const std::exception&) {
                    ++failed_;  // not acknowledged: may or may not be there
                }
                std::this_thread::sleep_for(5ms);
            }
        });
    }
    ~Writer() { finish(); }
    void finish() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
    }
    const std::vector<std::string>& acked() const { return acked_; }
    int sent() const { return sent_; }
    int failed() const { return failed_; }

  private:
    std::atomic<bool> stop_{false};
    std::atomic<int> sent_{0}, failed_{0};
    std::vector<std::string> acked_;
    std::thread thread_;
};

// The writer's keys `node` holds (one linearizable range read on its own URL).
std::set<std::string> writer_keys_on(const ProvisionedCluster& cluster, const std::string& node) {
    store::ClientOptions options{
        {cluster.client_url(node)},
        {cluster.admin_cert().string(), cluster.admin_key().string(), cluster.admin_ca().string()}};
    store::EtcdClient client(options);
    // base64("/trellis/writer/") and base64("/trellis/writer0"): the prefix's range.
    const json answer = client.call(
        "/v3/kv/range",
        {{"key", "L3RyZWxsaXMvd3JpdGVyLw=="}, {"range_end", "L3RyZWxsaXMvd3JpdGVyMA=="}, {"keys_only", true}});
    std::set<std::string> keys;
    for (const auto& kv : answer.value("kvs", json::array())) {
        const std::string b64 = kv.value("key", "");
        std::string out;
        int val = 0, bits = -8;
        for (const char c : b64) {
            const auto pos = std::string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/").find(c);
            if (pos == std::string::npos) break;
            val = (val << 6) + static_cast<int>(pos);
            bits += 6;
            if (bits >= 0) {
                out.push_back(static_cast<char>((val >> bits) & 0xFF));
                bits -= 8;
            }
        }
        keys.insert(out);
    }
    return keys;
}

TEST_F(Membership, AKilledMemberIsReplacedInOneCommandUnderAWriterAndNoAcknowledgedKeyIsLost) {
    ASSERT_TRUE(wait_healthy("backend-1", {"backend-1", "backend-2", "backend-3", "backend-4"}, 60s));
    Writer writer(*cluster_, {"backend-1", "backend-2", "backend-3", "backend-4"});
    std::this_thread::sleep_for(1s);
    nodes_["backend-4"]->kill_now();
    stop("backend-4");
    const auto t0 = Clock::now();
    const auto r =
        ctl({"backend-1", "backend-2", "backend-3"},
            {"cluster", "member-replace", "backend-4", "https://127.0.0.115:2380", "--render", spec(), "--out", "out"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(contains(r.out, "Removed member ")) << r.out;
    EXPECT_TRUE(contains(r.out, "ETCD_INITIAL_CLUSTER=")) << r.out;
    EXPECT_FALSE(contains(r.out, "127.0.0.114")) << "the dead member's URL is still in the cluster: " << r.out;
    std::filesystem::rename(cluster_->state_dir("backend-4"), dir_->path() / "state-backend-4.dead");
    nodes_["backend-4"] = start("backend-4").release();
    ASSERT_TRUE(wait_healthy("backend-1", {"backend-1", "backend-2", "backend-3", "backend-4"}, 60s));
    std::cerr << "replaced and healthy "
              << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count() << " ms after the "
              << "command started\n";
    std::this_thread::sleep_for(1s);
    writer.finish();
    std::cerr << "writer: " << writer.sent() << " requests, " << writer.acked().size() << " acknowledged, "
              << writer.failed() << " failed\n";
    ASSERT_GT(writer.acked().size(), 50u);
    EXPECT_EQ(writer.sent(), static_cast<int>(writer.acked().size()) + writer.failed());
    for (const auto& n : {"backend-1", "backend-2", "backend-3", "backend-4"}) {
        const auto keys = writer_keys_on(*cluster_, n);
        std::size_t missing = 0;
        for (const auto& k : writer.acked()) missing += keys.count(k) == 0;
        EXPECT_EQ(missing, 0u) << n << " lacks acknowledged keys";
    }
}

TEST_F(Membership, ARemovedMemberExits4AndRejoinsWithItsStaleDataOnlyWithTheFlag) {
    ASSERT_TRUE(wait_healthy("backend-1", {"backend-1", "backend-2", "backend-3", "backend-4"}, 60s));
    const std::string id = etcd_members("backend-1").at("backend-4").second;
    auto r = ctl({"backend-1"}, {"cluster", "member-remove", id});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(nodes_["backend-4"]->wait_exit(30), 4) << nodes_["backend-4"]->log_tail();
    EXPECT_TRUE(contains(nodes_["backend-4"]->log(), "member backend-4 was removed from the cluster"));
    stop("backend-4");

    r = ctl({"backend-1", "backend-2", "backend-3"},
            {"cluster", "member-add", "backend-4", "https://127.0.0.115:2380"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::string initial_cluster;
    for (const auto& line : lines_of(r.out))
        if (line.rfind("ETCD_INITIAL_CLUSTER=\"", 0) == 0) initial_cluster = line.substr(22, line.size() - 23);
    ASSERT_FALSE(initial_cluster.empty()) << r.out;
    const std::vector<std::string> join{"--etcd-initial-cluster-state", "existing", "--etcd-initial-cluster",
                                        initial_cluster};
    auto stale = start("backend-4", join);
    const auto t0 = Clock::now();
    EXPECT_EQ(stale->wait_exit(30), 4) << stale->log_tail();
    EXPECT_LT(Clock::now() - t0, 15s);
    const std::string log = stale->log();
    std::string cause;
    for (const auto& line : lines_of(log))
        if (line.rfind("trellis-backend: error: ", 0) == 0) cause = line;
    EXPECT_TRUE(contains(cause, "was removed from the cluster")) << log;
    EXPECT_TRUE(contains(cause, "--move-removed-data")) << cause;
    stale.reset();

    auto extra = join;
    extra.push_back("--move-removed-data");
    nodes_["backend-4"] = start("backend-4", extra).release();
    ASSERT_TRUE(wait_healthy("backend-1", {"backend-1", "backend-2", "backend-3", "backend-4"}, 60s));
    bool kept = false;
    for (const auto& e : std::filesystem::directory_iterator(cluster_->state_dir("backend-4")))
        kept = kept || e.path().filename().string().rfind("etcd.removed-", 0) == 0;
    EXPECT_TRUE(kept) << "the stale data was not kept aside";

    // Back to three members for the readiness case.
    r = ctl({"backend-1"}, {"cluster", "member-remove", etcd_members("backend-1").at("backend-4").second});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(nodes_["backend-4"]->wait_exit(30), 4);
    stop("backend-4");
}

TEST_F(Membership, ReadinessWithOneOfThreeDownAndAtQuorumLossAnswersWithinASecond) {
    ASSERT_TRUE(wait_healthy("backend-1", {"backend-1", "backend-2", "backend-3"}, 60s));
    nodes_["backend-3"]->kill_now();
    for (const auto& n : {"backend-1", "backend-2"}) {
        int status = 0;
        for (int i = 0; i < 50 && status != 200; ++i) {
            Clock::duration took;
            std::tie(status, took) = readyz(*cluster_, n);
            EXPECT_LT(took, 1s) << n;
            if (status != 200) std::this_thread::sleep_for(200ms);
        }
        EXPECT_EQ(status, 200) << n;
    }
    EXPECT_EQ(readyz(*cluster_, "backend-3").first, 0) << "the dead node answered";

    nodes_["backend-2"]->kill_now();
    // Every answer comes within 1 s; once etcd's election timeout has passed, backend-1 knows it has no
    // leader, and from then on /health is as quick.
    bool no_leader = false;
    for (int i = 0; i < 100 && !no_leader; ++i) {
        const auto t0 = Clock::now();
        auto res = cluster_->api("backend-1")->Get("/readyz");
        EXPECT_LT(Clock::now() - t0, 1s);
        no_leader = res && res->status == 503 && contains(res->body, "no leader");
        if (!no_leader) std::this_thread::sleep_for(100ms);
    }
    EXPECT_TRUE(no_leader);
    auto client = cluster_->api("backend-1");
    for (int i = 0; i < 3; ++i) {
        const auto t0 = Clock::now();
        const auto [health, body] = get_health(*client, 3);
        EXPECT_EQ(health, 503) << body.dump();
        EXPECT_LT(Clock::now() - t0, 1s) << "/health at quorum loss: " << body.dump();
        const auto [ready, took] = readyz(*cluster_, "backend-1");
        EXPECT_EQ(ready, 503);
        EXPECT_LT(took, 1s);
    }
}

TEST(NodeData, ADamagedWalIsNamedWithItsDirectoryAndTheFix) {
    TempDir dir;
    ProvisionedCluster single(data_path("backend/single.yml"), dir.path());
    {
        auto node = single.start("solo", {"--etcd-ready-timeout", "30", "--stop-timeout", "5"});
        auto api = single.api("solo");
        bool up = false;
        for (int i = 0; i < 150 && !up; ++i) {
            up = get_health(*api, 2).first == 200;
            if (!up) std::this_thread::sleep_for(200ms);
        }
        ASSERT_TRUE(up) << node->log_tail();
    }  // SIGTERM
    const auto wal = single.state_dir("solo") / "etcd" / "member" / "wal";
    std::filesystem::path segment;
    for (const auto& e : std::filesystem::directory_iterator(wal))
        if (e.path().extension() == ".wal") segment = e.path();
    ASSERT_FALSE(segment.empty());
    {
        std::fstream f(segment, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(100);
        const std::string junk(4096, '\x5a');
        f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
    }
    auto node = single.start("solo", {"--etcd-ready-timeout", "30"});
    const auto t0 = Clock::now();
    EXPECT_EQ(node->wait_exit(30), 1) << node->log_tail();
    EXPECT_LT(Clock::now() - t0, 15s);
    std::string cause;
    for (const auto& line : lines_of(node->log()))
        if (line.rfind("trellis-backend: error: ", 0) == 0) cause = line;
    EXPECT_TRUE(contains(cause, (single.state_dir("solo") / "etcd").string() + " is damaged")) << node->log_tail();
    EXPECT_TRUE(contains(cause, "member-replace solo")) << cause;
    EXPECT_TRUE(contains(cause, "restore")) << cause;
}

// examples/haproxy.cfg as HAProxy itself reads it (its CA path pointed at a real CA file); a config
// with a typo is refused the same way, so the check can fail.
TEST(Examples, TheHaproxyExampleIsValidHaproxyConfiguration) {
    ASSERT_TRUE(std::filesystem::exists("/usr/sbin/haproxy")) << "install Debian's haproxy (scripts/setup.sh)";
    TempDir dir;
    const auto ca = make_test_ca(dir.path(), "ca");
    std::string config = slurp(source_path("examples/haproxy.cfg"));
    const std::string placeholder = "/etc/trellis/ca.pem";
    ASSERT_NE(config.find(placeholder), std::string::npos);
    config.replace(config.find(placeholder), placeholder.size(), ca.cert.string());
    spit(dir / "haproxy.cfg", config);
    auto r = run({"/usr/sbin/haproxy", "-c", "-f", (dir / "haproxy.cfg").string()}, {}, {}, 30);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(contains(config, "/readyz"));
    spit(dir / "broken.cfg", config + "    http-check expectt status 200\n");
    r = run({"/usr/sbin/haproxy", "-c", "-f", (dir / "broken.cfg").string()}, {}, {}, 30);
    EXPECT_NE(r.exit_code, 0) << "haproxy -c accepted a typo";
}

}  // namespace
}  // namespace trellis::testing
