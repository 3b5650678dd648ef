#include "http_server.hpp"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "log.hpp"

namespace trellis::backend {

HttpResponse json_error(int status, int code, const std::string& message) {
    HttpResponse r;
    r.status = status;
    r.body = nlohmann::json{{"code", code}, {"message", message}}.dump() + "\n";
    return r;
}

namespace {

constexpr int kRefused = static_cast<int>(Code::HttpError);  // the code of the server's own refusals

std::string_view reason_phrase(int status) {
    static const std::map<int, std::string_view> phrases{{200, "OK"},
                                                         {201, "Created"},
                                                         {400, "Bad Request"},
                                                         {401, "Unauthorized"},
                                                         {403, "Forbidden"},
                                                         {404, "Not Found"},
                                                         {408, "Request Timeout"},
                                                         {409, "Conflict"},
                                                         {412, "Precondition Failed"},
                                                         {413, "Content Too Large"},
                                                         {414, "URI Too Long"},
                                                         {429, "Too Many Requests"},
                                                         {431, "Request Header Fields Too Large"},
                                                         {500, "Internal Server Error"},
                                                         {501, "Not Implemented"},
                                                         {503, "Service Unavailable"},
                                                         {504, "Gateway Timeout"}};
    const auto it = phrases.find(status);
    return it == phrases.end() ? "Status" : it->second;
}

using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxRefusing = 16;            // connections over their address's cap kept only to be told 429
constexpr std::chrono::milliseconds kLinger{1000};  // after a last answer: read and discard, then close

timeval to_timeval(std::chrono::milliseconds d) {
    return timeval{static_cast<time_t>(d.count() / 1000), static_cast<suseconds_t>((d.count() % 1000) * 1000)};
}

std::string address_text(const sockaddr* sa) {
    char text[INET6_ADDRSTRLEN] = "?";
    if (sa->sa_family == AF_INET)
        ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, text, sizeof text);
    else if (sa->sa_family == AF_INET6)
        ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, text, sizeof text);
    return text;
}

enum class State { Reading, Working, Writing, Draining };

// One client connection; the loop thread's alone.
struct Conn {
    HttpServer::Impl* server = nullptr;
    std::uint64_t id = 0;
    std::string address;
    bool over_address_cap = false;  // answered 429 whatever it asks
    bufferevent* bev = nullptr;
    event* timer = nullptr;
    State state = State::Reading;
    bool close_after = false;
    std::optional<api::RequestHead> head;  // of the request being read, once its head is complete
    std::size_t head_size = 0;
    std::string method, path;  // of the request being answered, for the observer

    ~Conn() {
        if (timer != nullptr) event_free(timer);
        if (bev != nullptr) bufferevent_free(bev);  // closes the socket (and frees its SSL)
    }
};

}  // namespace

struct HttpServer::Impl {
    SSL_CTX* tls = nullptr;
    HttpLimits limits;
    Handler handler;
    Observer observer;

    // The loop thread's own: no lock.
    event_base* base = nullptr;
    evconnlistener* listener = nullptr;
    event* wake = nullptr;      // a worker finished: answers to send
    event* halt = nullptr;      // stop() asks the loop to end
    event* relisten = nullptr;  // accepting again after running out of descriptors
    std::unordered_map<std::uint64_t, std::unique_ptr<Conn>> conns;
    std::unordered_map<std::string, std::size_t> per_address;
    std::uint64_t next_id = 1;
    std::size_t refusing = 0;
    Clock::time_point last_cap_warning{};
    std::thread loop;

    // Shared with the workers, under `mutex`.
    std::mutex mutex;
    std::condition_variable work;
    bool stopping = false;
    std::deque<std::function<void()>> jobs;
    std::deque<std::pair<std::uint64_t, HttpResponse>> done;
    std::vector<std::thread> workers;

    void accept(evutil_socket_t fd, const sockaddr* sa);
    void close(Conn& c);
    void read(Conn& c);
    void refuse(Conn& c, int status, const std::string& message);
    void dispatch(Conn& c, HttpRequest request);
    void respond(Conn& c, HttpResponse res, bool close_after);
    void written(Conn& c);
    void expired(Conn& c);
    void deliver();
    bool submit(std::function<void()> job);
    void finish(std::uint64_t id, HttpResponse res);
    void run_worker();
    void arm(Conn& c, std::chrono::milliseconds in) {
        const timeval tv = to_timeval(in);
        evtimer_add(c.timer, &tv);
    }
};

namespace {

void on_read(bufferevent*, void* arg) {
    auto* c = static_cast<Conn*>(arg);
    c->server->read(*c);
}
void on_write(bufferevent*, void* arg) {
    auto* c = static_cast<Conn*>(arg);
    c->server->written(*c);
}
void on_event(bufferevent*, short events, void* arg) {
    auto* c = static_cast<Conn*>(arg);
    if ((events & BEV_EVENT_CONNECTED) != 0) return;  // the TLS handshake is done: the request may come
    c->server->close(*c);                             // EOF, an error (a refused handshake), a write timeout
}
void on_timer(evutil_socket_t, short, void* arg) {
    auto* c = static_cast<Conn*>(arg);
    c->server->expired(*c);
}
void on_accept(evconnlistener*, evutil_socket_t fd, sockaddr* sa, int, void* arg) {
    static_cast<HttpServer::Impl*>(arg)->accept(fd, sa);
}
void on_accept_error(evconnlistener* listener, void* arg) {
    // Out of descriptors, typically: pause accepting for a moment instead of spinning on the error.
    auto* impl = static_cast<HttpServer::Impl*>(arg);
    log(Level::Warn, std::string("API: cannot accept a connection: ") + std::strerror(errno) + " (pausing 200ms)");
    evconnlistener_disable(listener);
    const timeval tv = to_timeval(std::chrono::milliseconds(200));
    evtimer_add(impl->relisten, &tv);
}
void on_relisten(evutil_socket_t, short, void* arg) {
    evconnlistener_enable(static_cast<HttpServer::Impl*>(arg)->listener);
}
void on_wake(evutil_socket_t, short, void* arg) { static_cast<HttpServer::Impl*>(arg)->deliver(); }
void on_halt(evutil_socket_t, short, void* arg) { event_base_loopbreak(static_cast<HttpServer::Impl*>(arg)->base); }

}  // namespace

void HttpServer::Impl::accept(evutil_socket_t fd, const sockaddr* sa) {
    std::string address = address_text(sa);
    if (conns.size() >= limits.max_connections) {
        if (Clock::now() - last_cap_warning > std::chrono::seconds(10)) {
            last_cap_warning = Clock::now();
            log(Level::Warn, "API: " + std::to_string(conns.size()) +
                                 " connections open, the limit: closing new ones at once (e.g. from " + address + ")");
        }
        ::close(fd);
        return;
    }
    const auto known = per_address.find(address);
    const bool over_cap = known != per_address.end() && known->second >= limits.max_per_address;
    if (over_cap && refusing >= kMaxRefusing) {
        ::close(fd);
        return;
    }
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // one answer, often several TLS records
    auto c = std::make_unique<Conn>();
    c->server = this;
    c->id = next_id++;
    c->address = std::move(address);
    c->over_address_cap = over_cap;
    if (tls != nullptr) {
        SSL* ssl = SSL_new(tls);
        c->bev = ssl == nullptr
                     ? nullptr
                     : bufferevent_openssl_socket_new(base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
        if (c->bev == nullptr && ssl != nullptr) SSL_free(ssl);  // libevent frees it only with a bufferevent
        // A client that closes without close_notify has still sent its whole request.
        if (c->bev != nullptr) bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
    } else {
        c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
    }
    c->timer = evtimer_new(base, on_timer, c.get());
    if (c->bev == nullptr || c->timer == nullptr) {
        if (c->bev == nullptr) ::close(fd);
        return;
    }
    over_cap ? ++refusing : ++per_address[c->address];
    bufferevent_setcb(c->bev, on_read, on_write, on_event, c.get());
    // Never more buffered than one whole request: reading pauses there.
    bufferevent_setwatermark(c->bev, EV_READ, 0, limits.max_header_bytes + limits.max_body_bytes + 16384);
    const timeval write_tv = to_timeval(limits.write_timeout);
    bufferevent_set_timeouts(c->bev, nullptr, &write_tv);
    bufferevent_enable(c->bev, EV_READ);
    arm(*c, limits.deadline);  // the handshake and the first request
    conns.emplace(c->id, std::move(c));
}

void HttpServer::Impl::close(Conn& c) {
    if (c.over_address_cap) {
        --refusing;
    } else if (const auto it = per_address.find(c.address); it != per_address.end() && --it->second == 0) {
        per_address.erase(it);
    }
    conns.erase(c.id);  // frees c
}

void HttpServer::Impl::expired(Conn& c) {
    // Bytes of a request that never completed: a slow or stuck client is told so. Nothing at all (an idle
    // connection, a stalled handshake), or an answer already given: closed without a word.
    if (c.state == State::Reading && (c.head || evbuffer_get_length(bufferevent_get_input(c.bev)) > 0))
        return refuse(c, 408, "the request did not arrive within " + std::to_string(limits.deadline.count()) + " ms");
    close(c);
}

void HttpServer::Impl::refuse(Conn& c, int status, const std::string& message) {
    log(Level::Debug, "API: " + std::to_string(status) + " to " + c.address + ": " + message);
    c.head.reset();
    respond(c, json_error(status, kRefused, message), /*close_after=*/true);
}

void HttpServer::Impl::read(Conn& c) {
    evbuffer* in = bufferevent_get_input(c.bev);
    if (c.state == State::Draining) {
        evbuffer_drain(in, evbuffer_get_length(in));
        return;
    }
    if (c.state != State::Reading) return;
    if (!c.head) {
        // Empty lines before a request are allowed (RFC 9112 2.2); bounded by what is buffered.
        for (char two[2]; evbuffer_copyout(in, two, 2) == 2 && two[0] == '\r' && two[1] == '\n';) evbuffer_drain(in, 2);
        const std::size_t have = evbuffer_get_length(in);
        std::string text(std::min(have, limits.max_header_bytes + 4), '\0');
        evbuffer_copyout(in, text.data(), text.size());
        const auto end = text.find("\r\n\r\n");
        if (end == std::string::npos) {
            if (text.find("\r\n") == std::string::npos && text.size() > limits.max_uri_bytes)
                return refuse(c, 414,
                              "request line over the limit of " + std::to_string(limits.max_uri_bytes) + " bytes");
            if (have > limits.max_header_bytes)
                return refuse(
                    c, 431, "request headers over the limit of " + std::to_string(limits.max_header_bytes) + " bytes");
            return;  // more is coming, within the deadline
        }
        auto parsed = api::parse_request_head(std::string_view(text).substr(0, end + 4), limits);
        if (auto* refusal = std::get_if<api::HeadRefusal>(&parsed)) return refuse(c, refusal->status, refusal->message);
        c.head = std::move(std::get<api::RequestHead>(parsed));
        c.head_size = end + 4;
        // curl waits a second for this before sending a body it announced; the body is within the limit.
        if (c.head->expect_continue) bufferevent_write(c.bev, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    }
    if (evbuffer_get_length(in) < c.head_size + c.head->content_length) return;  // the body is still coming
    evbuffer_drain(in, c.head_size);
    HttpRequest req;
    req.body.resize(c.head->content_length);
    evbuffer_remove(in, req.body.data(), req.body.size());
    req.method = c.head->method;
    auto target = api::split_target(c.head->target);
    c.method = req.method;
    c.close_after = !c.head->keep_alive;
    if (!target) return refuse(c, 400, "malformed percent-encoding in " + excerpt(c.head->target));
    c.path = req.path = target->first;
    req.query = std::move(target->second);
    req.remote = c.address;
    if (tls != nullptr)
        if (X509* peer = SSL_get1_peer_certificate(bufferevent_openssl_get_ssl(c.bev))) req.peer.emplace(peer);
    c.head.reset();
    if (c.over_address_cap)
        return refuse(
            c, 429,
            "too many connections from " + c.address + " (at most " + std::to_string(limits.max_per_address) + ")");
    dispatch(c, std::move(req));
}

void HttpServer::Impl::dispatch(Conn& c, HttpRequest request) {
    c.state = State::Working;
    bufferevent_disable(c.bev, EV_READ);  // the next request waits for this answer
    evtimer_del(c.timer);
    const bool queued = submit([this, id = c.id, req = std::move(request)]() mutable {
        HttpResponse res;
        try {
            res = handler(req);
        } catch (const std::exception& e) {
            log(Level::Error, "API: " + req.method + " " + req.path + ": unexpected internal error: " + e.what());
            res = json_error(500, static_cast<int>(Code::Internal),
                             std::string("unexpected internal error: ") + e.what());
        }
        finish(id, std::move(res));
    });
    if (!queued)
        respond(c,
                json_error(503, kRefused,
                           "the API is busy: " + std::to_string(limits.workers) + " requests running and " +
                               std::to_string(limits.queue) + " waiting; try again"),
                c.close_after);
}

void HttpServer::Impl::respond(Conn& c, HttpResponse res, bool close_after) {
    evtimer_del(c.timer);
    c.state = State::Writing;
    c.close_after = close_after;
    const bool from_file = res.file_fd >= 0;
    std::string head = "HTTP/1.1 " + std::to_string(res.status) + " " + std::string(reason_phrase(res.status)) +
                       "\r\nContent-Type: " + res.content_type + "\r\nContent-Length: " +
                       std::to_string(from_file ? res.file_size : static_cast<long long>(res.body.size())) + "\r\n";
    for (const auto& [name, value] : res.headers) head += name + ": " + value + "\r\n";
    head += close_after ? "Connection: close\r\n\r\n" : "Connection: keep-alive\r\n\r\n";
    evbuffer* out = bufferevent_get_output(c.bev);
    evbuffer_add(out, head.data(), head.size());
    if (c.method == "HEAD") {  // the head of the answer GET would get, without its body
        if (from_file) ::close(res.file_fd);
    } else if (from_file) {
        // libevent owns the descriptor from here on, and closes it once sent.
        if (evbuffer_add_file(out, res.file_fd, 0, res.file_size) != 0) {
            ::close(res.file_fd);
            c.close_after = true;  // the promised length cannot be sent
        }
    } else {
        evbuffer_add(out, res.body.data(), res.body.size());
    }
    if (observer) observer(c.method, c.path, res.status);
    bufferevent_enable(c.bev, EV_WRITE);
}

void HttpServer::Impl::written(Conn& c) {
    if (c.state != State::Writing) return;
    c.method.clear();
    c.path.clear();
    if (c.close_after) {
        // Read and discard for a moment before closing, so a client still sending its (refused) body reads
        // our answer instead of a reset.
        c.state = State::Draining;
        bufferevent_enable(c.bev, EV_READ);
        arm(c, kLinger);
        return;
    }
    c.state = State::Reading;
    bufferevent_enable(c.bev, EV_READ);
    arm(c, limits.deadline);  // a keep-alive connection's next request
    read(c);                  // one may be buffered already
}

void HttpServer::Impl::deliver() {
    std::deque<std::pair<std::uint64_t, HttpResponse>> ready;
    {
        const std::lock_guard lock(mutex);
        ready.swap(done);
    }
    for (auto& [id, res] : ready) {
        const auto it = conns.find(id);
        if (it == conns.end() || it->second->state != State::Working) {
            if (res.file_fd >= 0) ::close(res.file_fd);  // the client left meanwhile
            continue;
        }
        respond(*it->second, std::move(res), it->second->close_after);
    }
}

bool HttpServer::Impl::submit(std::function<void()> job) {
    {
        const std::lock_guard lock(mutex);
        if (stopping || jobs.size() >= limits.queue) return false;
        jobs.push_back(std::move(job));
    }
    work.notify_one();
    return true;
}

void HttpServer::Impl::finish(std::uint64_t id, HttpResponse res) {
    {
        const std::lock_guard lock(mutex);
        done.emplace_back(id, std::move(res));
    }
    event_active(wake, EV_READ, 0);  // evthread_use_pthreads makes this safe from a worker
}

void HttpServer::Impl::run_worker() {
    for (;;) {
        std::function<void()> job;
        {
            std::unique_lock lock(mutex);
            work.wait(lock, [this] { return stopping || !jobs.empty(); });
            if (stopping) return;  // what still waits is dropped with its connection
            job = std::move(jobs.front());
            jobs.pop_front();
        }
        job();
    }
}

HttpServer::HttpServer(SSL_CTX* tls, HttpLimits limits, Handler handler, Observer observer)
    : impl_(std::make_unique<Impl>()) {
    impl_->tls = tls;
    impl_->limits = limits;
    impl_->handler = std::move(handler);
    impl_->observer = std::move(observer);
}

HttpServer::~HttpServer() { stop(); }

void HttpServer::start(const std::string& host, int port, const std::string& where) {
    static std::once_flag threads_once;
    std::call_once(threads_once, [] { evthread_use_pthreads(); });
    Impl& s = *impl_;
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    addrinfo* found = nullptr;
    if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0 || found == nullptr)
        throw Error(Code::ConnectFailed, where + ": cannot listen there (not an address of this host)");
    s.base = event_base_new();
    if (s.base != nullptr)
        s.listener = evconnlistener_new_bind(s.base, on_accept, &s,
                                             LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, 1024,
                                             found->ai_addr, static_cast<int>(found->ai_addrlen));
    ::freeaddrinfo(found);
    if (s.listener == nullptr) {
        const std::string why = std::strerror(errno);
        stop();
        throw Error(Code::ConnectFailed,
                    where + ": cannot listen there (in use, or not an address of this host: " + why + ")");
    }
    evconnlistener_set_error_cb(s.listener, on_accept_error);
    s.wake = event_new(s.base, -1, 0, on_wake, &s);
    s.halt = event_new(s.base, -1, 0, on_halt, &s);
    s.relisten = evtimer_new(s.base, on_relisten, &s);
    for (std::size_t i = 0; i < s.limits.workers; ++i) s.workers.emplace_back([&s] { s.run_worker(); });
    s.loop = std::thread([&s] { event_base_loop(s.base, EVLOOP_NO_EXIT_ON_EMPTY); });
}

void HttpServer::stop() {
    Impl& s = *impl_;
    if (s.base == nullptr) return;
    if (s.loop.joinable()) {
        event_active(s.halt, EV_READ, 0);  // kept until the loop runs it, unlike a loopbreak before the loop
        s.loop.join();
    }
    {
        const std::lock_guard lock(s.mutex);
        s.stopping = true;
    }
    s.work.notify_all();
    for (auto& w : s.workers) w.join();  // handlers running now finish; their answers are dropped
    s.workers.clear();
    if (s.relisten != nullptr) event_del(s.relisten);            // the pass below accepts nothing:
    if (s.listener != nullptr) evconnlistener_free(s.listener);  // no listener, no timer to re-enable it
    s.listener = nullptr;
    s.conns.clear();
    // bufferevent_free frees a connection only once no callback libevent deferred for it (an OpenSSL
    // bufferevent's write callback, say) still holds a reference; event_base_free cancels such callbacks
    // without dropping theirs. One pass of the loop runs them, and the connection is freed (LSan found
    // one TLS connection leaked at a backend's shutdown under load in the backend-abuse test).
    event_base_loop(s.base, EVLOOP_NONBLOCK);
    s.per_address.clear();
    for (auto& [id, res] : s.done)
        if (res.file_fd >= 0) ::close(res.file_fd);
    s.done.clear();
    s.jobs.clear();
    for (event* e : {s.wake, s.halt, s.relisten})
        if (e != nullptr) event_free(e);
    event_base_free(s.base);
    s.base = nullptr;
    s.listener = nullptr;
    s.wake = s.halt = s.relisten = nullptr;
}

long long raise_open_file_limit() {
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return -1;
    if (lim.rlim_cur < lim.rlim_max) {
        rlimit raised = lim;
        raised.rlim_cur = lim.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) lim = raised;
    }
    return lim.rlim_cur == RLIM_INFINITY ? -1 : static_cast<long long>(lim.rlim_cur);
}

}  // namespace trellis::backend
