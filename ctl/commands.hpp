// The trellisctl commands over an ApiClient: each sends its request(s), prints
// the guide's text or the JSON/YAML document to `out`, and returns the exit
// code; failures are trellis::Error for cli::run to report.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <ostream>
#include <string>

#include "client.hpp"
#include "views.hpp"

namespace trellis::ctl {

int cluster_health(const ApiClient& client, Format format, std::ostream& out);
int member_list(const ApiClient& client, Format format, std::ostream& out);

struct RenderRequest {
    std::filesystem::path spec;  // cluster spec (cluster-config's YAML)
    std::filesystem::path out;   // the directory `cluster-config provision` wrote
};
// How membership changes are made (member-add, member-replace).
struct ChangeOptions {
    bool voter = false;                              // add a voting member at once, not a learner
    std::chrono::seconds wait{20};                   // how long etcd's "unhealthy cluster" refusal is waited out
    std::function<void(const std::string&)> notice;  // one-line progress notes (stderr)
};
int member_add(const ApiClient& client, const std::string& name, const std::string& peer_urls,
               const std::optional<RenderRequest>& render, const ChangeOptions& change, Format format,
               std::ostream& out);
int member_remove(const ApiClient& client, const std::string& id, Format format, std::ostream& out);
int member_update(const ApiClient& client, const std::string& id, const std::string& peer_urls, Format format,
                  std::ostream& out);

// Shared by the commands: a read may be retried on another backend after any server-side failure, a
// mutation only after 503 ("etcd unreachable": nothing was applied).
bool accept_read(const Response& response);
bool accept_write(const Response& response);
// The members document of a 2xx answer, its error otherwise (naming `member` when the API says 404).
api::MembersAnswer members_or_throw(const Response& response, api::Json& doc, std::uint64_t member = 0);
// GET /health: the document (into `doc`) and what it says; 200 and 503 both carry one.
api::Health fetch_health(const ApiClient& client, api::Json& doc);
void print(std::ostream& out, const std::string& text);
// POST members for NAME at PEER-URLS (comma separated), as a learner unless `learner` is false.
std::string add_target(const std::string& name, const std::string& peer_urls, bool learner);

}  // namespace trellis::ctl
