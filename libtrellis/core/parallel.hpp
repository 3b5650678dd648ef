// One way to spread independent jobs across cores: key generation and signing in provisioning and in
// the library's batch issuance.
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

}  // namespace trellis
