#include "core/parallel.hpp"

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace trellis {
namespace {

struct Launch {
    std::function<void()> fn;
    cpu_set_t widen;  // the parent's affinity, taken back once the thread runs where it was placed
    bool placed;
};

void* launch(void* arg) {
    const std::unique_ptr<Launch> l(static_cast<Launch*>(arg));
    if (l->placed) pthread_setaffinity_np(pthread_self(), sizeof l->widen, &l->widen);
    l->fn();
    return nullptr;
}

// The first core in `allowed` other than the calling thread's, or -1 if there is none.
int other_cpu(const cpu_set_t& allowed) {
    const int here = sched_getcpu();
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
        if (CPU_ISSET(cpu, &allowed) && cpu != here) return cpu;
    return -1;
}

}  // namespace

PlacedThread::PlacedThread(std::function<void()> fn) {
    auto l = std::make_unique<Launch>(Launch{std::move(fn), {}, false});
    CPU_ZERO(&l->widen);
    // With more than CPU_SETSIZE cores sched_getaffinity fails: the thread is then simply not placed.
    if (sched_getaffinity(0, sizeof l->widen, &l->widen) == 0) cpu_ = other_cpu(l->widen);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    if (cpu_ >= 0) {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(cpu_, &one);
        l->placed = pthread_attr_setaffinity_np(&attr, sizeof one, &one) == 0;
    }
    bool placed = l->placed;  // read now: from its start the thread owns `l` and may free it
    int rc = pthread_create(&thread_, &attr, launch, l.get());
    pthread_attr_destroy(&attr);
    if (rc != 0 && placed) {  // the core went away (hot-unplug, a cpuset change): start it anywhere
        placed = l->placed = false;
        rc = pthread_create(&thread_, nullptr, launch, l.get());
    }
    if (rc != 0) throw std::system_error(rc, std::generic_category(), "starting a thread");
    l.release();
    if (!placed) cpu_ = -1;
}

PlacedThread::~PlacedThread() { pthread_join(thread_, nullptr); }

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
