// Where trellisctl connects and with which credentials: one table of settings,
// each resolved from flag > environment > config file (~/.config/trellis/cli.yml)
// > default, remembering where every value came from for error messages.
#pragma once

#include <array>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trellis::ctl {

enum class Key { Url, TrustedCaFile, CertFile, KeyFile, Timeout };

struct KeyInfo {
    Key key;
    std::string_view name;      // in cli.yml and as the flag: "trusted-ca-file" / --trusted-ca-file
    std::string_view env;       // "TRELLISCTL_TRUSTED_CA_FILE"
    std::string_view fallback;  // the default; paths are where `cluster-config provision --out out` puts admin's files
    std::string_view help;
};
const std::array<KeyInfo, 5>& key_table();
const KeyInfo& key_info(Key key);

struct Value {
    std::vector<std::string> values;  // url may have several entries; the others exactly one
    std::string origin;               // "--url", "TRELLISCTL_URL", "/home/u/.config/trellis/cli.yml:3", "default"
};

// The values one source gave (a source may give any subset).
using Layer = std::map<Key, Value>;

struct Settings {
    std::vector<std::string> urls;  // validated, normalised
    std::string trusted_ca_file;
    std::string cert_file;
    std::string key_file;
    long long timeout_ms = 0;
    std::map<Key, std::string> origins;  // where each came from
};

// Reads the TRELLISCTL_* variables through `getenv` (tests pass their own).
Layer env_layer(const std::function<const char*(const char*)>& getenv);

// Parses cli.yml strictly: unknown keys, wrong types and bad YAML are Code::ConfigInvalid naming the file and
// line. Relative paths in it resolve against the file's directory.
Layer file_layer(std::string_view yaml, const std::string& source);

// Highest precedence first (flags, env, file); missing keys take the table's defaults. Validates URLs and
// the timeout (Code::Usage naming the origin).
Settings resolve(const std::vector<Layer>& layers);

// The text `trellisctl configure` writes: a commented YAML document with the given values.
std::string render_config(const Settings& settings);

// ~/.config/trellis/cli.yml, honouring XDG_CONFIG_HOME; empty when neither it nor HOME is set.
std::filesystem::path default_config_path(const std::function<const char*(const char*)>& getenv);

}  // namespace trellis::ctl
