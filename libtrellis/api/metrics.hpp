// GET /metrics (docs/metrics.md): what a node knows about itself and its cluster, in Prometheus' text
// exposition format 0.0.4. The backend gathers the facts; turning them into text is here, pure.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/etcd_client.hpp"
#include "store/health.hpp"

namespace trellis::api {

inline constexpr std::string_view kMetricsPath = "/metrics";
inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

// The route a request is counted under: the endpoint's pattern ("/api/core/v2/cluster/members/:id"),
// or "other" for any path the API does not serve, so a scanner cannot grow the label set without bound.
std::string metrics_route(std::string_view path);
// The method a request is counted under: an HTTP method the API knows, else "other" (bounded likewise).
std::string metrics_method(std::string_view method);

struct RequestCount {
    std::string method;  // GET, POST, ... (anything else: "other")
    std::string route;   // metrics_route()
    int code = 0;        // the HTTP status answered
    std::uint64_t count = 0;
};

// A certificate this node serves or trusts, by the backend.yml key that names its file.
struct CertificateFact {
    std::string key;      // "etcd-peer-cert-file"
    std::string file;     // as the key gives it
    std::string subject;  // "CN=backend-1,O=node"
    std::string serial;   // decimal: a CA bundle mid-rotation may hold two certificates of one subject
    std::chrono::system_clock::time_point not_after;
};

struct MetricsFacts {
    store::ClusterHealth health;         // every member's health and the alarms, as /health reports them
    std::optional<store::Status> local;  // this node's etcd, when it answered
    std::optional<bool> etcd_up;         // this node's supervised etcd runs; nullopt: none (no-embed-etcd)
    std::uint64_t etcd_restarts = 0;     // restarts done for a rollout since the backend started
    std::vector<RequestCount> requests;
    std::vector<CertificateFact> certificates;
};

// The whole /metrics document: one # HELP and # TYPE per family, families in a fixed order, label values
// escaped as the format requires.
std::string metrics_text(const MetricsFacts& facts);

}  // namespace trellis::api
