// Issue 10 item 1: the API stays up under abuse, on the abuse test's own hosts (127.0.0.141-143, standard
// ports; the attack's sockets are bound to 127.0.0.141-146). While 300 idle TCP connections, 50 stalled
// TLS handshakes (half a ClientHello) and a slow-loris (a header byte a second) are held against node 1's
// API -- reopened as the server closes them, as an attacker would -- an admin's /health and member list
// each answer within 1 s, 20 times in a row; the server closes the idle ones after its deadline, caps
// connections per address, and refuses a 100 MB body with 413 without reading it.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <thread>

#include "abuse_load.hpp"
#include "backend_fixture.hpp"
#include "shared_cluster.hpp"

namespace trellis::testing {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr const char* kTarget = "127.0.0.141";
constexpr int kApiPort = 8080;
constexpr double kDeadlineSeconds = 5.0;  // the server's handshake and request deadline (http_server.hpp)

int connect_from(const std::string& source) { return connect_tcp(source, kTarget, kApiPort); }

// A TLS client of node 1's API with the admin's certificate, speaking raw HTTP for the limit cases.
class RawTls {
  public:
    RawTls(const ProvisionedCluster& cluster, const std::string& source) {
        ctx_ = SSL_CTX_new(TLS_client_method());
        SSL_CTX_use_certificate_chain_file(ctx_, cluster.admin_cert().c_str());
        SSL_CTX_use_PrivateKey_file(ctx_, cluster.admin_key().c_str(), SSL_FILETYPE_PEM);
        SSL_CTX_load_verify_locations(ctx_, cluster.admin_ca().c_str(), nullptr);
        SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
        fd_ = connect_from(source);
        if (fd_ < 0) return;
        ssl_ = SSL_new(ctx_);
        SSL_set_fd(ssl_, fd_);
        ok_ = SSL_connect(ssl_) == 1;
    }
    ~RawTls() {
        if (ssl_ != nullptr) SSL_free(ssl_);
        if (fd_ >= 0) ::close(fd_);
        SSL_CTX_free(ctx_);
    }
    bool ok() const { return ok_; }
    // Sends `head`, then up to `body_bytes` of body in 64 KiB pieces until the server answers; returns what
    // it answered (read until it closes or 5 s pass) and, in *sent, how much body went out.
    std::string exchange(const std::string& head, std::size_t body_bytes = 0, std::size_t* sent = nullptr) {
        if (!head.empty()) write(head);
        const std::string piece(64 * 1024, 'x');
        std::size_t out = 0;
        while (out < body_bytes && !readable()) {
            const int n = SSL_write(ssl_, piece.data(), static_cast<int>(std::min(piece.size(), body_bytes - out)));
            if (n <= 0) break;
            out += static_cast<std::size_t>(n);
        }
        if (sent != nullptr) *sent = out;
        std::string answer;
        char buf[4096];
        for (const auto end = Clock::now() + 5s; Clock::now() < end;) {
            const int n = SSL_read(ssl_, buf, sizeof buf);
            if (n <= 0) break;
            answer.append(buf, static_cast<std::size_t>(n));
            if (complete(answer)) break;
        }
        return answer;
    }

    // Waits up to `ms` for the server: > 0 bytes appended to `into`, 0 when it closed, -1 when nothing came.
    int read_some(std::string& into, int ms) {
        const timeval tv{ms / 1000, (ms % 1000) * 1000};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        char buf[4096];
        const int n = SSL_read(ssl_, buf, sizeof buf);
        if (n > 0) into.append(buf, static_cast<std::size_t>(n));
        if (n > 0) return n;
        const int e = SSL_get_error(ssl_, n);
        ERR_clear_error();
        return e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && errno != EAGAIN && errno != EWOULDBLOCK) ||
                       e == SSL_ERROR_SSL || (e == SSL_ERROR_SYSCALL && n == 0)
                   ? 0
                   : -1;
    }
    bool write(std::string_view data) { return SSL_write(ssl_, data.data(), static_cast<int>(data.size())) > 0; }
    bool readable() const {
        if (SSL_pending(ssl_) > 0) return true;
        pollfd p{fd_, POLLIN, 0};
        return ::poll(&p, 1, 0) > 0;
    }
    static bool complete(const std::string& answer) {
        const auto end = answer.find("\r\n\r\n");
        const auto cl = answer.find("Content-Length: ");
        if (end == std::string::npos || cl == std::string::npos) return false;
        return answer.size() >= end + 4 + std::stoul(answer.substr(cl + 16));
    }

  private:
    SSL_CTX* ctx_ = nullptr;
    SSL* ssl_ = nullptr;
    int fd_ = -1;
    bool ok_ = false;
};

// A client with a certificate that sends its request a byte a second after the handshake, until the
// server answers or closes (bounded: 30 s).
class SlowLoris {
  public:
    SlowLoris(const ProvisionedCluster& cluster, const std::string& source)
        : thread_([this, &cluster, source] { run(cluster, source); }) {}
    ~SlowLoris() { join(); }
    void join() {
        if (thread_.joinable()) thread_.join();
    }
    double lived() const { return lived_; }
    const std::string& heard() const { return heard_; }

  private:
    void run(const ProvisionedCluster& cluster, const std::string& source) {
        RawTls tls(cluster, source);
        const auto opened = Clock::now();
        const std::string request = "GET /health HTTP/1.1\r\nHost: 127.0.0.141\r\nX-Slow: " + std::string(4000, 'a');
        // A byte, then a second of listening; until the server closes. Bounded by 30 s and the request's length.
        for (std::size_t sent = 0; tls.ok() && sent < request.size() && Clock::now() - opened < 30s; ++sent) {
            if (!tls.write(request.substr(sent, 1))) break;
            int got = tls.read_some(heard_, 1000);
            while (got > 0 && Clock::now() - opened < 30s) got = tls.read_some(heard_, 1000);
            if (got == 0) break;
        }
        lived_ = std::chrono::duration<double>(Clock::now() - opened).count();
    }
    double lived_ = 0;
    std::string heard_;
    std::thread thread_;
};

long long rss_kib(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(status, line);)
        if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
    return -1;
}

double percentile(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

int status_of(const std::string& answer) { return answer.size() > 12 ? std::atoi(answer.c_str() + 9) : 0; }
nlohmann::json body_of(const std::string& answer) {
    const auto end = answer.find("\r\n\r\n");
    return end == std::string::npos ? nlohmann::json() : nlohmann::json::parse(answer.substr(end + 4), nullptr, false);
}

// api-max-connections-per-address for this cluster: above the default 64, so the cap test below fails
// unless the key reaches the server.
constexpr int kPerAddress = 70;

class Abuse : public SharedCluster {
  protected:
    static void SetUpTestSuite() {
        ::signal(SIGPIPE, SIG_IGN);
        start_cluster_from(data_path("backend/abuse-3.yml"),
                           {"--log-level", "info", "--etcd-ready-timeout", "60", "--api-max-connections-per-address",
                            std::to_string(kPerAddress)});
    }
    static void TearDownTestSuite() { stop_cluster(); }
};

TEST_F(Abuse, AdminIsServedWhileIdleStalledAndSlowClientsAreHeld) {
    auto admin = cluster_->api("backend-1");
    admin->set_read_timeout(5, 0);
    ASSERT_TRUE(wait_healthy(*admin, 3, 90s)) << "the cluster did not turn healthy";
    // 300 idle from five addresses (60 each, under the per-address cap), 50 stalled handshakes,
    // one slow-loris; the admin connects from 127.0.0.1.
    std::vector<Attack::Kind> kinds;
    for (const char* source : {"127.0.0.142", "127.0.0.143", "127.0.0.144", "127.0.0.145", "127.0.0.146"})
        kinds.push_back({"idle", source, 60});
    kinds.push_back({"stalled", "127.0.0.141", 50});
    Attack attack(kTarget, kApiPort, kinds);
    SlowLoris loris(*cluster_, "127.0.0.146");
    for (const auto end = Clock::now() + 10s; attack.open("idle") < 300 && Clock::now() < end;)
        std::this_thread::sleep_for(50ms);
    ASSERT_EQ(attack.open("idle"), 300u);
    ASSERT_EQ(attack.open("stalled"), 50u);

    std::vector<double> health_ms, members_ms;
    for (int i = 0; i < 20; ++i) {
        const std::vector<std::pair<std::string, std::vector<double>*>> asks{
            {"/health", &health_ms}, {"/api/core/v2/cluster/members", &members_ms}};
        for (const auto& [path, times] : asks) {
            const auto t0 = Clock::now();
            const auto res = admin->Get(path);
            const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
            ASSERT_TRUE(res) << path << " #" << i << ": " << httplib::to_string(res.error()) << " after " << ms
                             << " ms";
            EXPECT_EQ(res->status, 200) << path << ": " << res->body;
            EXPECT_LT(ms, 1000.0) << path << " #" << i;
            times->push_back(ms);
        }
        // Held the whole time: the attacker reopens what the server closes.
        EXPECT_GE(attack.open("idle") + attack.open("stalled"), 300u);
    }
    std::cout << "under 300 idle + 50 stalled handshakes + 1 slow-loris: /health p50 " << percentile(health_ms, 0.5)
              << " ms, p99 " << percentile(health_ms, 0.99) << " ms; member list p50 " << percentile(members_ms, 0.5)
              << " ms, p99 " << percentile(members_ms, 0.99) << " ms (20 each)\n";

    // The server closes idle connections and stalled handshakes after its deadline, not before, not never.
    loris.join();
    std::cout << "slow-loris: lived " << loris.lived() << " s, heard " << loris.heard().size() << " bytes\n";
    for (const auto end = Clock::now() + 12s;
         (attack.lifetimes("idle").empty() || attack.lifetimes("stalled").empty()) && Clock::now() < end;)
        std::this_thread::sleep_for(100ms);
    for (const std::string kind : {"idle", "stalled", "slow-loris"}) {
        const auto lives = kind == "slow-loris" ? std::vector<double>{loris.lived()} : attack.lifetimes(kind);
        ASSERT_FALSE(lives.empty()) << "the server never closed a " << kind << " connection";
        const auto [lo, hi] = std::minmax_element(lives.begin(), lives.end());
        std::cout << kind << ": " << lives.size() << " closed by the server after " << *lo << " to " << *hi << " s\n";
        EXPECT_GE(*lo, kDeadlineSeconds - 0.5) << kind;
        EXPECT_LE(*hi, kDeadlineSeconds + 3.0) << kind;
    }
    // The slow-loris had sent some of its request: it is told why.
    const std::string heard = loris.heard();
    EXPECT_EQ(status_of(heard), 408) << heard;
    EXPECT_EQ(body_of(heard).value("code", 0), 16003) << heard;
    attack.stop();
}

TEST_F(Abuse, ConnectionsOverTheAddressCapAreRefused) {
    // kPerAddress from 127.0.0.144 are held; the next, with a certificate, is told 429; plain ones beyond
    // are closed.
    std::this_thread::sleep_for(500ms);  // the server has seen the previous test's connections close
    std::vector<int> held;
    for (int i = 0; i < kPerAddress - 1; ++i) held.push_back(connect_from("127.0.0.144"));
    EXPECT_EQ(std::count(held.begin(), held.end(), -1), 0);
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(std::count_if(held.begin(), held.end(), [](int fd) { return fd >= 0 && closed_by_server(fd); }), 0);
    RawTls last(*cluster_, "127.0.0.144");  // the cap's last place: served, and held to the end
    ASSERT_TRUE(last.ok());
    const std::string served = last.exchange("GET /health HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_TRUE(status_of(served) == 200 || status_of(served) == 503) << served;
    {
        RawTls over(*cluster_, "127.0.0.144");
        ASSERT_TRUE(over.ok());
        const std::string answer = over.exchange("GET /health HTTP/1.1\r\nHost: a\r\n\r\n");
        EXPECT_EQ(status_of(answer), 429) << answer;
        EXPECT_EQ(body_of(answer).value("code", 0), 16003) << answer;
    }
    std::vector<int> beyond;
    for (int i = 0; i < 40; ++i) beyond.push_back(connect_from("127.0.0.144"));
    std::this_thread::sleep_for(500ms);  // well before the 5 s deadline
    const auto closed =
        std::count_if(beyond.begin(), beyond.end(), [](int fd) { return fd < 0 || closed_by_server(fd); });
    std::cout << "over the cap: " << closed << " of 40 closed at once (up to 16 are kept to be told 429)\n";
    EXPECT_GE(closed, 24);
    for (int fd : held) ::close(fd);
    for (int fd : beyond) ::close(fd);
}

TEST_F(Abuse, LimitsAnswerJsonErrors) {
    const pid_t pid = nodes_.front()->pid();
    const long long before = rss_kib(pid);
    {
        RawTls c(*cluster_, "127.0.0.145");
        ASSERT_TRUE(c.ok());
        std::size_t sent = 0;
        const std::string answer =
            c.exchange("GET /health HTTP/1.1\r\nHost: a\r\nContent-Length: 104857600\r\n\r\n", 104857600, &sent);
        EXPECT_EQ(status_of(answer), 413) << answer;
        EXPECT_EQ(body_of(answer).value("code", 0), 16003) << answer;
        std::cout << "100 MB body on GET /health: 413 after " << sent << " bytes sent\n";
    }
    const long long after = rss_kib(pid);
    std::cout << "backend-1 RSS " << before << " KiB -> " << after << " KiB\n";
    EXPECT_LT(after - before, 10 * 1024);
    struct Case {
        std::string head;
        std::size_t body;
        int status;
    };
    const std::string members = "/api/core/v2/cluster/members";
    const std::vector<Case> cases{
        {"POST " + members +
             "?peer-addrs=https://127.0.0.146:2380 HTTP/1.1\r\nHost: a\r\nContent-Length: 10485760\r\n\r\n",
         10485760, 413},
        {"GET /health?" + std::string(5000, 'q') + " HTTP/1.1\r\nHost: a\r\n\r\n", 0, 414},
        {"GET /health HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(9000, 'h') + "\r\n\r\n", 0, 431},
        {"GET /health HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", 0, 400},
        {"GET /nothing-here HTTP/1.1\r\nHost: a\r\n\r\n", 0, 404},
    };
    for (const auto& c : cases) {
        RawTls tls(*cluster_, "127.0.0.145");
        ASSERT_TRUE(tls.ok());
        const std::string answer = tls.exchange(c.head, c.body);
        EXPECT_EQ(status_of(answer), c.status) << c.head.substr(0, 60) << ": " << answer;
        const auto body = body_of(answer);
        EXPECT_TRUE(body.is_object() && body.contains("code") && body.contains("message")) << answer;
    }
}

}  // namespace
}  // namespace trellis::testing
