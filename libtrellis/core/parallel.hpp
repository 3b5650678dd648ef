// Three ways to run work on other threads: parallel_for spreads independent jobs across cores (key
// generation and signing in provisioning and in the library's batch issuance); run_detached starts work
// nobody waits to join (health checks whose waiter keeps its own deadline); PlacedThread runs one piece
// of work beside the caller's from the first microsecond (preparing Botan's tables while OpenSSL signs).
#pragma once

#include <pthread.h>

#include <cstddef>
#include <functional>

namespace trellis {

// A thread that starts on another core than the thread starting it, and is joined when destroyed (like
// std::jthread). Some schedulers queue a new thread behind its busy parent: on the 2-vCPU VMs this
// project is measured on (Firecracker guests booted with sched_vcpu_pack), a plain thread waited 0.6-4.6 ms
// to run and then shared its parent's core, while one placed on the other core ran after about 50 us
// (bench/thread-start). Only the start is placed: the thread takes its parent's affinity back before `fn`
// runs, and the scheduler moves it freely from then on. With no other core allowed it is a plain thread.
// `fn` must not throw (as for any thread's function).
class PlacedThread {
  public:
    explicit PlacedThread(std::function<void()> fn);
    PlacedThread(const PlacedThread&) = delete;
    PlacedThread& operator=(const PlacedThread&) = delete;
    ~PlacedThread();

    // The core the thread was started on, or -1 where there was no other.
    int placed_on() const { return cpu_; }

  private:
    pthread_t thread_{};
    int cpu_ = -1;
};

// Runs job(0) .. job(count - 1) on up to `threads` threads (0: one per core; never more than jobs).
// The first exception stops handing out work and is rethrown here once every thread has finished.
// `progress`, when set, is called on this thread about every 100 ms with the number of finished jobs,
// and once at the end.
void parallel_for(size_t count, unsigned threads, const std::function<void(size_t)>& job,
                  const std::function<void(size_t done, size_t total)>& progress = {});

// Runs `task` on a thread of its own at once -- an idle one kept from earlier tasks, or a new one -- and
// returns without waiting. A task never queues behind another, so one blocked on a dead peer delays
// nothing else. Idle threads linger a few seconds for the next task: /health starts about eight tasks per
// request, and a new thread each time (clone, stack mapping and unmapping) cost more than its answers.
// Exceptions from `task` end the process, as from any thread: catch them in the task.
void run_detached(std::function<void()> task);

}  // namespace trellis
