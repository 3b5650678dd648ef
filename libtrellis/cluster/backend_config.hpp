// The backend.yml schema: one table of every key trellis-backend understands,
// which etcd flag (if any) it becomes, its type and default, and a loader that
// keeps where each value came from (file:line, environment, flag) for errors
// and lint findings. Used by cluster-config (render, lint) and trellis-backend.
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace trellis::cluster {

enum class KeyType { String, Bool, Int, UrlList, Path, Duration };

struct BackendKey {
    std::string_view key;        // "etcd-listen-client-urls"
    std::string_view etcd_flag;  // "--listen-client-urls"; empty if the key is the backend's own
    KeyType type;
    std::string_view default_value;  // as it would be written in YAML; empty: no default
    std::string_view help;           // one line for --help and docs
};

// Every key, in the order docs and rendered files list them.
std::span<const BackendKey> backend_keys();
const BackendKey* find_backend_key(std::string_view key);

// Where a value came from, for messages: "backend.yml:12", "env TRELLIS_BACKEND_ETCD_NAME", "flag --etcd-name".
struct Origin {
    std::string source;
    int line = 0;  // 0 when not from a file
    std::string to_string() const;
};

struct Setting {
    std::string key;
    std::vector<std::string> values;  // one for scalars; URL lists split on YAML list, comma or space
    Origin origin;
};

class BackendConfig {
  public:
    // Parses backend.yml strictly: unknown keys are Code::ConfigInvalid naming file:line and the closest key.
    static BackendConfig from_yaml(std::string_view text, std::string_view source);

    // Later layers win: call set() for env, then flags, after from_yaml (flag > env > file > default).
    void set(std::string_view key, const std::vector<std::string>& values, Origin origin);

    bool has(std::string_view key) const;  // explicitly set (not just defaulted)
    const Setting* find(std::string_view key) const;
    // Value or the table's default; Code::ConfigInvalid if the value does not fit the key's type.
    std::string get(std::string_view key) const;
    bool get_bool(std::string_view key) const;
    long long get_int(std::string_view key) const;
    std::vector<std::string> get_list(std::string_view key) const;

    // The embedded etcd's command line, from the table: every set etcd key as "--flag=value".
    std::vector<std::string> etcd_arguments() const;

    const std::map<std::string, Setting, std::less<>>& settings() const { return settings_; }

  private:
    std::map<std::string, Setting, std::less<>> settings_;
};

// Splits a URL list given as "a,b" or "a b" (the guide writes both).
std::vector<std::string> split_list(std::string_view text);

}  // namespace trellis::cluster
