// How long a new thread waits before it runs on a machine whose other cores are idle, while the thread
// that started it keeps working (as a CLI does), against the same while it blocks in join(). On a VM that
// packs tasks onto busy vCPUs, work spread across cores for less than this gains nothing (issue 14,
// docs/performance.md). A third row starts a trellis::PlacedThread (created with its affinity set to
// another core): it starts at once, yet spreading the guide's six leaves that way was slower, not faster
// (docs/performance.md, session 16). Usage: thread-start [TRIES]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <thread>
#include <vector>

#include "core/parallel.hpp"

namespace {

using Clock = std::chrono::steady_clock;

// parent_busy: the parent spins until the thread runs (else it blocks in join); placed: the thread is a
// trellis::PlacedThread, started on a core other than the parent's.
long start_latency_us(bool parent_busy, bool placed) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the other cores go idle
    std::atomic<long> started{-1};
    const auto t0 = Clock::now();
    const auto mark = [&] {
        started = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count();
    };
    {
        std::optional<std::jthread> plain;
        std::optional<trellis::PlacedThread> elsewhere;
        if (placed) {
            elsewhere.emplace(mark);
        } else {
            plain.emplace(mark);
        }
        // Bounded: a thread that never starts in a second is reported as a second.
        while (parent_busy && started < 0 && Clock::now() - t0 < std::chrono::seconds(1)) {
        }
    }  // joined
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
