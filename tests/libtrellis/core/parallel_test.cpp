#include "core/parallel.hpp"

#include <gtest/gtest.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

namespace trellis {
namespace {

TEST(Parallel, RunsEveryJobOnceOnSeveralThreads) {
    std::vector<std::atomic<int>> runs(500);
    std::mutex mutex;
    std::set<std::thread::id> threads;
    parallel_for(runs.size(), 3, [&](size_t i) {
        runs[i].fetch_add(1);
        std::lock_guard lock(mutex);
        threads.insert(std::this_thread::get_id());
        std::this_thread::yield();
    });
    for (const auto& r : runs) EXPECT_EQ(r.load(), 1);
    EXPECT_GE(threads.size(), 1u);
    EXPECT_LE(threads.size(), 3u);
}

TEST(Parallel, ReportsProgressAndEndsAtTheTotal) {
    std::vector<size_t> seen;
    parallel_for(
        50, 2, [](size_t) { std::this_thread::sleep_for(std::chrono::milliseconds(5)); },
        [&](size_t done, size_t total) {
            EXPECT_EQ(total, 50u);
            seen.push_back(done);
        });
    ASSERT_FALSE(seen.empty());
    EXPECT_EQ(seen.back(), 50u);
    EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
}

// Each job takes a while (as real ones do), so the other thread cannot finish them all in the time a throw
// takes to unwind: stopping must be what ends the batch early.
TEST(Parallel, TheFirstFailureStopsTheRestAndIsRethrown) {
    constexpr int jobs = 2000;
    std::atomic<int> ran{0};
    EXPECT_THROW(parallel_for(jobs, 2,
                              [&](size_t i) {
                                  ran.fetch_add(1);
                                  if (i == 3) throw std::runtime_error("job 3");
                                  std::this_thread::sleep_for(std::chrono::microseconds(200));
                              }),
                 std::runtime_error);
    EXPECT_LT(ran.load(), jobs / 2);
}

cpu_set_t affinity() {
    cpu_set_t set;
    CPU_ZERO(&set);
    EXPECT_EQ(pthread_getaffinity_np(pthread_self(), sizeof set, &set), 0);
    return set;
}

// Started on another allowed core, then free to run on any core its parent may use.
TEST(PlacedThread, StartsOnAnotherCoreThenTakesItsParentsAffinity) {
    const cpu_set_t parent = affinity();
    if (CPU_COUNT(&parent) < 2) GTEST_SKIP() << "one core allowed: nothing to place on";
    cpu_set_t inside;
    CPU_ZERO(&inside);
    int placed = -1;
    {
        const PlacedThread t([&] { inside = affinity(); });
        placed = t.placed_on();
    }  // joined
    ASSERT_GE(placed, 0);
    EXPECT_TRUE(CPU_ISSET(placed, &parent));
    EXPECT_TRUE(CPU_EQUAL(&inside, &parent));
}

// With no other core allowed it is a plain thread; either way the destructor waits for `fn` to finish.
TEST(PlacedThread, WithOneCoreAllowedRunsUnplacedAndIsJoined) {
    int placed = -2;
    std::atomic<bool> ran{false};
    std::thread([&] {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(sched_getcpu(), &one);
        ASSERT_EQ(pthread_setaffinity_np(pthread_self(), sizeof one, &one), 0);
        const PlacedThread t([&] {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            ran = true;
        });
        placed = t.placed_on();
    }).join();
    EXPECT_EQ(placed, -1);
    EXPECT_TRUE(ran);
}

TEST(Parallel, NothingToDoCallsNothing) {
    bool called = false;
    parallel_for(
        0, 2, [&](size_t) { called = true; }, [&](size_t, size_t) { called = true; });
    EXPECT_FALSE(called);
}

// A detached task never waits for another: twelve tasks that each wait until all twelve run only finish if
// every one got a thread at once. The waits are bounded, so a task that queued fails the test, not hangs it.
TEST(RunDetached, EveryTaskRunsAtOnceAndLaterTasksReuseIdleThreads) {
    constexpr int n = 12;
    std::mutex mutex;
    std::condition_variable cv;
    int started = 0, met = 0, finished = 0;
    std::set<std::thread::id> first_round;
    const auto task = [&] {
        std::unique_lock lock(mutex);
        ++started;
        first_round.insert(std::this_thread::get_id());
        cv.notify_all();
        if (cv.wait_for(lock, std::chrono::seconds(5), [&] { return started >= n; })) ++met;
        ++finished;
        cv.notify_all();
    };
    for (int i = 0; i < n; ++i) run_detached(task);
    {
        std::unique_lock lock(mutex);
        ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return finished == n; }));
    }
    EXPECT_EQ(met, n);
    EXPECT_EQ(first_round.size(), static_cast<size_t>(n));

    // The threads of the first round are idle now (for a few seconds): the next task takes one of them.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::thread::id later;
    bool done = false;
    run_detached([&] {
        std::lock_guard lock(mutex);
        later = std::this_thread::get_id();
        done = true;
        cv.notify_all();
    });
    std::unique_lock lock(mutex);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(5), [&] { return done; }));
    EXPECT_TRUE(first_round.count(later)) << "a new thread although twelve were idle";
}

}  // namespace
}  // namespace trellis
