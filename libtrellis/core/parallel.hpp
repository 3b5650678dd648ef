// Two ways to run work on other threads: parallel_for spreads independent jobs across cores (key
// generation and signing in provisioning and in the library's batch issuance); run_detached starts work
// nobody waits to join (health checks whose waiter keeps its own deadline).
#pragma once

#include <cstddef>
#include <functional>

namespace trellis {

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
