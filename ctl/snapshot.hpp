// trellisctl cluster snapshot save/status (docs/trellisctl.md, docs/recovery.md): save streams a
// snapshot from a backend into a file that appears only once etcd's SHA-256 checks out (0600);
// status reports a snapshot file through the installed etcdctl, as `etcdctl snapshot status` does.
#pragma once

#include <filesystem>
#include <ostream>
#include <string>

#include "client.hpp"
#include "views.hpp"

namespace trellis::ctl {

// Code::FileExists before any request when `file` exists and `overwrite` is not set.
int snapshot_save(const ApiClient& client, const std::filesystem::path& file, bool overwrite, Format format,
                  std::ostream& out);
// `etcdctl`: the etcdctl to use ("" : next to trellisctl, else on PATH).
int snapshot_status(const std::filesystem::path& file, const std::string& etcdctl, Format format, std::ostream& out);

}  // namespace trellis::ctl
