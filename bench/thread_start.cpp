// How long a new thread waits before it runs on a machine whose other cores are idle, while the thread
// that started it keeps working (as a CLI does), against the same while it blocks in join(). On a VM that
// packs tasks onto busy vCPUs, work spread across cores for less than this gains nothing (issue 14,
// docs/performance.md). Usage: thread-start [TRIES]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

long start_latency_us(bool parent_busy) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the other cores go idle
    std::atomic<long> started{-1};
    const auto t0 = Clock::now();
    std::thread t([&] { started = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count(); });
    // Bounded: a thread that never starts in a second is reported as a second.
    while (parent_busy && started < 0 && Clock::now() - t0 < std::chrono::seconds(1)) {
    }
    t.join();
    return started < 0 ? 1000000 : started.load();
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
    std::vector<long> busy, blocked;
    for (int i = 0; i < tries; ++i) {
        busy.push_back(start_latency_us(true));
        blocked.push_back(start_latency_us(false));
    }
    std::printf("a new thread's wait before it runs, %d tries each, alternating\n", tries);
    report("parent keeps working", busy);
    report("parent blocks in join()", blocked);
}
