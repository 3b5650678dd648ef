#include "core/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
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

}  // namespace trellis
