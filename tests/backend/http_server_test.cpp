// The API server (backend/http_server.hpp) in plain HTTP on 127.0.0.144:8080 with small limits (pool,
// deadline, caps); its request-head parser is tested in tests/libtrellis/api/http_request_test.cpp.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "http_server.hpp"

namespace trellis::backend {
namespace {

TEST(HttpErrors, AreJson) {
    const HttpResponse r = json_error(431, 16003, "too \"big\"");
    EXPECT_EQ(r.status, 431);
    EXPECT_EQ(r.content_type, "application/json");
    EXPECT_EQ(r.body, "{\"code\":16003,\"message\":\"too \\\"big\\\"\"}\n");
}

// The server itself, plain HTTP on 127.0.0.144:8080 (the abuse test's hosts), with small limits: one
// worker, one waiting request, a 500 ms deadline, 4 connections per address (unless a test says otherwise).
class Server : public ::testing::Test {
  protected:
    static HttpLimits small() {
        HttpLimits l;
        l.workers = 1;
        l.queue = 1;
        l.deadline = std::chrono::milliseconds(500);
        l.max_per_address = 4;
        return l;
    }
    void SetUp() override { start(small()); }
    void start(const HttpLimits& l) {
        if (server_) server_->stop();
        server_ = std::make_unique<HttpServer>(
            nullptr, l,
            [this](HttpRequest& req) {
                if (req.path == "/block") {
                    ++blocked_;
                    std::unique_lock lock(mutex_);
                    release_.wait_for(lock, std::chrono::seconds(10), [this] { return released_; });
                }
                HttpResponse r;
                r.content_type = "text/plain";
                r.body = req.method + " " + req.path + " " + req.param("q") + " " + req.body;
                return r;
            },
            [this](const std::string&, const std::string&, int status) { statuses_.push_back(status); });
        server_->start("127.0.0.144", 8080, "test");
    }
    void TearDown() override {
        release();
        server_->stop();
    }
    void release() {
        {
            std::lock_guard lock(mutex_);
            released_ = true;
        }
        release_.notify_all();
    }
    // A raw connection: sends `text`, then reads until the server closes or `ms` pass.
    static int dial() {
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(8080);
        ::inet_pton(AF_INET, "127.0.0.144", &to.sin_addr);
        if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
            ::close(fd);
            return -1;
        }
        return fd;
    }
    static std::string read_for(int fd, int ms) {
        std::string out;
        char buf[4096];
        for (const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
             std::chrono::steady_clock::now() < end;) {
            pollfd p{fd, POLLIN, 50};
            if (::poll(&p, 1, 50) <= 0) continue;
            const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0) {
                out += n == 0 ? "<closed>" : "<reset>";
                break;
            }
            out.append(buf, static_cast<std::size_t>(n));
        }
        return out;
    }
    static void send_text(int fd, const std::string& text) {
        (void)!::send(fd, text.data(), text.size(), MSG_NOSIGNAL);
    }

    std::unique_ptr<HttpServer> server_;
    std::atomic<int> blocked_{0};
    std::mutex mutex_;
    std::condition_variable release_;
    bool released_ = false;
    std::vector<int> statuses_;  // the loop thread's; read after stop()
};

TEST_F(Server, KeepAliveAndPipelinedRequestsAreAnsweredInOrder) {
    const int fd = dial();
    ASSERT_GE(fd, 0);
    send_text(fd, "POST /a?q=1 HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyzGET /b?q=%41+b HTTP/1.1\r\n\r\n");
    const std::string got = read_for(fd, 300);
    const auto first = got.find("POST /a 1 xyz"), second = got.find("GET /b A b ");
    EXPECT_NE(first, std::string::npos) << got;
    EXPECT_NE(second, std::string::npos) << got;
    EXPECT_LT(first, second);
    EXPECT_EQ(got.find("<closed>"), std::string::npos) << "closed before the deadline: " << got;
    ::close(fd);
}

TEST_F(Server, ABodyAnnouncedWithExpectGetsA100First) {
    const int fd = dial();
    send_text(fd, "POST /c HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n");
    EXPECT_EQ(read_for(fd, 200), "HTTP/1.1 100 Continue\r\n\r\n");
    send_text(fd, "hi");
    EXPECT_NE(read_for(fd, 200).find("POST /c  hi"), std::string::npos);
    ::close(fd);
}

TEST_F(Server, ConnectionsOverTheTotalAreClosedAtOnce) {
    HttpLimits l = small();
    l.max_connections = 3;
    l.deadline = std::chrono::milliseconds(2000);
    start(l);
    std::vector<int> held;
    for (int i = 0; i < 3; ++i) held.push_back(dial());
    const int over = dial();  // the kernel accepts it; the server closes it without a word
    EXPECT_EQ(read_for(over, 500), "<closed>");
    ::close(over);
    ::close(held[0]);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const int next = dial();  // a place is free again
    send_text(next, "GET /x HTTP/1.1\r\n\r\n");
    EXPECT_EQ(read_for(next, 300).rfind("HTTP/1.1 200 ", 0), 0u);
    ::close(next);
    for (std::size_t i = 1; i < held.size(); ++i) ::close(held[i]);
}

TEST_F(Server, AFullPoolAnswers503AtOnce) {
    std::vector<std::thread> waiting;
    std::vector<std::string> answers(2);
    // The first takes the one worker, the second the one place in the queue, in this order.
    for (int i = 0; i < 2; ++i) {
        waiting.emplace_back([&, i] {
            const int fd = dial();
            send_text(fd, "GET /block HTTP/1.1\r\n\r\n");
            answers[i] = read_for(fd, 3000);
            ::close(fd);
        });
        for (int w = 0; w < 100 && blocked_ == 0; ++w) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
    const int fd = dial();
    const auto t0 = std::chrono::steady_clock::now();
    send_text(fd, "GET /x HTTP/1.1\r\n\r\n");
    const std::string busy = read_for(fd, 300);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(1000));
    EXPECT_EQ(busy.rfind("HTTP/1.1 503 ", 0), 0u) << busy;
    EXPECT_NE(busy.find("{\"code\":16003,\"message\":\"the API is busy"), std::string::npos) << busy;
    ::close(fd);
    release();
    for (auto& t : waiting) t.join();
    for (const auto& a : answers) EXPECT_EQ(a.rfind("HTTP/1.1 200 ", 0), 0u) << a;
}

TEST_F(Server, DeadlinesCloseIdleConnectionsAndAnswerSlowOnes408) {
    const int idle = dial(), slow = dial();
    send_text(slow, "GET /x HTTP/1.1\r\nHost:");
    const std::string idle_got = read_for(idle, 1500), slow_got = read_for(slow, 1500);
    EXPECT_EQ(idle_got, "<closed>");
    EXPECT_EQ(slow_got.rfind("HTTP/1.1 408 ", 0), 0u) << slow_got;
    EXPECT_NE(slow_got.find("\"code\":16003"), std::string::npos) << slow_got;
    ::close(idle);
    ::close(slow);
}

TEST_F(Server, ConnectionsOverTheAddressCapAreTold429) {
    HttpLimits l = small();
    l.workers = l.queue = 4;  // the four held connections' requests at once
    l.deadline = std::chrono::milliseconds(2000);
    start(l);
    std::vector<int> held;
    for (int i = 0; i < 4; ++i) held.push_back(dial());
    const int over = dial();
    send_text(over, "GET /x HTTP/1.1\r\n\r\n");
    const std::string got = read_for(over, 300);
    EXPECT_EQ(got.rfind("HTTP/1.1 429 ", 0), 0u) << got;
    ::close(over);
    for (int fd : held) send_text(fd, "GET /x HTTP/1.1\r\nConnection: close\r\n\r\n");  // within the deadline
    for (int fd : held) {
        EXPECT_EQ(read_for(fd, 300).rfind("HTTP/1.1 200 ", 0), 0u);
        ::close(fd);
    }
    server_->stop();
    EXPECT_EQ(std::count(statuses_.begin(), statuses_.end(), 429), 1);
    EXPECT_EQ(std::count(statuses_.begin(), statuses_.end(), 200), 4);
}

}  // namespace
}  // namespace trellis::backend
