// How long a new thread waits before it runs on a machine whose other cores are idle, while the thread
// that started it keeps working (as a CLI does), against the same while it blocks in join(). On a VM that
// packs tasks onto busy vCPUs, work spread across cores for less than this gains nothing (issue 14,
// docs/performance.md). A third row places the thread on another core when it is created (pthread
// affinity): it then starts at once, yet spreading the guide's six leaves that way was slower, not faster
// (docs/performance.md, session 16). Usage: thread-start [TRIES]
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Start {
    Clock::time_point t0;
    std::atomic<long> started{-1};
};

void* mark(void* arg) {
    auto* s = static_cast<Start*>(arg);
    s->started = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - s->t0).count();
    return nullptr;
}

// parent_busy: the parent spins until the thread runs (else it blocks in join); placed: the thread is
// created with its affinity set to a core other than the parent's.
long start_latency_us(bool parent_busy, bool placed) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the other cores go idle
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    if (placed) {
        cpu_set_t other;
        CPU_ZERO(&other);
        if (sched_getaffinity(0, sizeof other, &other) == 0) CPU_CLR(sched_getcpu(), &other);
        if (CPU_COUNT(&other) > 0) pthread_attr_setaffinity_np(&attr, sizeof other, &other);
    }
    Start s;
    s.t0 = Clock::now();
    pthread_t t;
    if (pthread_create(&t, &attr, mark, &s) != 0) std::abort();
    pthread_attr_destroy(&attr);
    // Bounded: a thread that never starts in a second is reported as a second.
    while (parent_busy && s.started < 0 && Clock::now() - s.t0 < std::chrono::seconds(1)) {
    }
    pthread_join(t, nullptr);
    return s.started < 0 ? 1000000 : s.started.load();
}

void report(const char* what, std::vector<long> us) {
    std::sort(us.begin(), us.end());
    const auto at = [&](double q) { return us[static_cast<size_t>(q * static_cast<double>(us.size() - 1))]; };
    std::printf("%-34s p50 %6ld us   p90 %6ld us   p99 %6ld us   max %6ld us\n", what, at(0.5), at(0.9), at(0.99),
                us.back());
}

}  // namespace

int main(int argc, char** argv) {
    const int tries = argc > 1 ? std::clamp(std::atoi(argv[1]), 1, 10000) : 200;
    std::vector<long> busy, blocked, placed;
    for (int i = 0; i < tries; ++i) {
        busy.push_back(start_latency_us(true, false));
        blocked.push_back(start_latency_us(false, false));
        placed.push_back(start_latency_us(true, true));
    }
    std::printf("a new thread's wait before it runs, %d tries each, alternating\n", tries);
    report("parent keeps working", busy);
    report("parent blocks in join()", blocked);
    report("parent works, thread placed", placed);
}
