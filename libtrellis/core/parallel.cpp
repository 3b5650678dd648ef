#include "core/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace trellis {

void parallel_for(size_t count, unsigned threads, const std::function<void(size_t)>& job,
                  const std::function<void(size_t, size_t)>& progress) {
    if (count == 0) return;
    const unsigned cores = threads ? threads : std::max(1u, std::thread::hardware_concurrency());
    const auto n = static_cast<unsigned>(std::min<size_t>(cores, count));
    std::atomic<size_t> next{0}, done{0};
    std::mutex mutex;
    std::condition_variable cv;
    std::exception_ptr failure;
    auto work = [&] {
        for (size_t i; (i = next.fetch_add(1)) < count;) {
            try {
                job(i);
            } catch (...) {
                std::lock_guard lock(mutex);
                if (!failure) failure = std::current_exception();
                next = count;  // stop handing out work
            }
            done.fetch_add(1);
            cv.notify_one();
        }
    };
    {
        std::vector<std::jthread> pool;
        // With reports to make, this thread watches; otherwise it is one of the workers.
        for (unsigned t = progress ? 0 : 1; t < n; ++t) pool.emplace_back(work);
        if (progress) {
            // Workers always finish (each job is bounded); the wait only paces progress reports.
            std::unique_lock lock(mutex);
            while (!cv.wait_for(lock, std::chrono::milliseconds(100), [&] { return done.load() >= count || failure; }))
                progress(done.load(), count);
        } else {
            work();
        }
    }  // join
    if (failure) std::rethrow_exception(failure);
    if (progress) progress(count, count);
}

namespace {

// Threads for run_detached: one per task in flight, idle ones kept for kIdleLinger. Never destroyed (a
// static's destructor would race the threads at exit); the threads are detached.
class DetachedThreads {
  public:
    static constexpr auto kIdleLinger = std::chrono::seconds(5);

    void run(std::function<void()> task) {
        std::unique_lock lock(mutex_);
        tasks_.push_back(std::move(task));
        if (idle_ >= tasks_.size()) {
            cv_.notify_one();
            return;
        }
        lock.unlock();
        std::thread([this] { serve(); }).detach();
    }

  private:
    void serve() {
        std::unique_lock lock(mutex_);
        for (;;) {
            ++idle_;
            const bool got = cv_.wait_for(lock, kIdleLinger, [&] { return !tasks_.empty(); });
            --idle_;
            if (!got) return;
            auto task = std::move(tasks_.front());
            tasks_.pop_front();
            lock.unlock();
            task();
            lock.lock();
        }
    }

    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> tasks_;
    std::size_t idle_ = 0;  // threads waiting for a task
};

}  // namespace

void run_detached(std::function<void()> task) {
    static auto* threads = new DetachedThreads;  // NOLINT: deliberately never freed (see the class)
    threads->run(std::move(task));
}

}  // namespace trellis
