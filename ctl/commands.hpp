// The trellisctl commands over an ApiClient: each sends its request(s), prints
// the guide's text or the JSON/YAML document to `out`, and returns the exit
// code; failures are trellis::Error for cli::run to report.
#pragma once

#include <cstdint>
#include <filesystem>
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
int member_add(const ApiClient& client, const std::string& name, const std::string& peer_urls,
               const std::optional<RenderRequest>& render, Format format, std::ostream& out);
int member_remove(const ApiClient& client, const std::string& id, Format format, std::ostream& out);
int member_update(const ApiClient& client, const std::string& id, const std::string& peer_urls, Format format,
                  std::ostream& out);

}  // namespace trellis::ctl
