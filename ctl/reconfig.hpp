// Membership changes that do not fail on etcd's passing refusals: etcd 3.4 refuses to add (or remove)
// a member with "etcdserver: unhealthy cluster" until the member serving the request has been connected
// to every voting member for 5 s (its strict reconfiguration check) — right after `cluster health` turns
// green, say. Such a refusal is waited out, bounded, saying what it waits for.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "client.hpp"

namespace trellis::ctl {

// etcd's words for the strict reconfiguration check's refusal.
inline constexpr std::string_view kUnhealthyCluster = "etcdserver: unhealthy cluster";

// Whether the answer is etcd's strict reconfiguration refusal (HTTP 409 with kUnhealthyCluster).
bool is_unhealthy_cluster(const Response& response);

// Calls `send` until its answer is not that refusal or `wait` has passed (then returns the last
// refusal); before the first retry, `notice` gets one line saying what is waited for and how long.
Response send_waiting_out_unhealthy(const std::function<Response()>& send, std::chrono::seconds wait,
                                    const std::function<void(const std::string&)>& notice);

}  // namespace trellis::ctl
