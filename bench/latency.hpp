// Latency of one kind of request, asked one at a time: the percentiles the benchmarks print.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

namespace trellis::bench {

// The `p`-quantile (0..1) of `v`, nearest rank; 0 for no samples.
inline double percentile(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

// Milliseconds taken by each call, and how many answered wrongly (`ask` returned false).
struct Samples {
    std::vector<double> ms;
    int failed = 0;
    void take(const std::function<bool()>& ask) {
        const auto t0 = std::chrono::steady_clock::now();
        if (!ask()) ++failed;
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
};

}  // namespace trellis::bench
