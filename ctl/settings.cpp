#include "settings.hpp"

#include <yaml-cpp/yaml.h>

#include "core/error.hpp"
#include "core/flat_yaml.hpp"
#include "core/strict_json.hpp"
#include "validate.hpp"

namespace fs = std::filesystem;

namespace trellis::ctl {
namespace {

// The defaults are the files `cluster-config provision SPEC --out out` writes for the `admin` client
// (out/clients/admin/: its cert, key and the client CA), relative to the directory provision ran in;
// `trellisctl configure` records absolute paths instead.
constexpr std::array<KeyInfo, 5> kKeys{{
    {Key::Url, "url", "TRELLISCTL_URL", "https://127.0.0.1:8080",
     "backend API URL(s); repeat or separate with commas: the next is tried when one is down"},
    {Key::TrustedCaFile, "trusted-ca-file", "TRELLISCTL_TRUSTED_CA_FILE", "out/clients/admin/ca.pem",
     "CA certificate that signed the backends' API certificates"},
    {Key::CertFile, "cert-file", "TRELLISCTL_CERT_FILE", "out/clients/admin/admin.pem",
     "client certificate presented to the backend"},
    {Key::KeyFile, "key-file", "TRELLISCTL_KEY_FILE", "out/clients/admin/admin-key.pem",
     "private key of the client certificate"},
    {Key::Timeout, "timeout", "TRELLISCTL_TIMEOUT", "15s",
     "per-request timeout: a Go duration (10s, 1m30s, 500ms, 1h) or seconds, from 1ms to 1h"},
}};

[[noreturn]] void bad_config(const std::string& where, const std::string& what) {
    throw Error(Code::ConfigInvalid, where + ": " + what);
}

bool is_path_key(Key key) { return key == Key::TrustedCaFile || key == Key::CertFile || key == Key::KeyFile; }

}  // namespace

const std::array<KeyInfo, 5>& key_table() { return kKeys; }

const KeyInfo& key_info(Key key) {
    for (const auto& k : kKeys)
        if (k.key == key) return k;
    throw Error(Code::Internal, "unknown settings key");
}

Layer env_layer(const std::function<const char*(const char*)>& getenv) {
    Layer layer;
    for (const auto& k : kKeys) {
        const char* value = getenv(std::string(k.env).c_str());
        if (value != nullptr && *value != '\0') layer[k.key] = Value{{value}, std::string(k.env)};
    }
    return layer;
}

Layer file_layer(std::string_view yaml, const std::string& source) {
    const fs::path dir = fs::path(source).parent_path();
    std::vector<std::string> names;
    for (const auto& k : kKeys) names.emplace_back(k.name);
    Layer layer;
    for (auto& e : read_flat_yaml(yaml, source, "settings (url: ..., cert-file: ...)")) {
        const std::string where = source + ":" + std::to_string(e.line);
        const KeyInfo* info = nullptr;
        for (const auto& k : kKeys)
            if (k.name == e.key) info = &k;
        if (info == nullptr) {
            const auto near = closest_match(e.key, names);
            bad_config(where,
                       "unknown key \"" + excerpt(e.key) + "\"" + (near ? " (did you mean \"" + *near + "\"?)" : ""));
        }
        if (e.list && info->key != Key::Url) bad_config(where, std::string(info->name) + ": expected a string");
        if (e.values.empty() || e.values.front().empty())
            bad_config(where, std::string(info->name) + ": the value is empty: remove the key to use the default");
        if (is_path_key(info->key) && fs::path(e.values.front()).is_relative() && !dir.empty())
            e.values.front() = (dir / e.values.front()).string();
        layer[info->key] = Value{std::move(e.values), where};
    }
    return layer;
}

Settings resolve(const std::vector<Layer>& layers) {
    Settings settings;
    for (const auto& k : kKeys) {
        Value chosen{{std::string(k.fallback)}, "default"};
        for (const auto& layer : layers) {
            const auto it = layer.find(k.key);
            if (it != layer.end()) {
                chosen = it->second;
                break;
            }
        }
        settings.origins[k.key] = chosen.origin;
        switch (k.key) {
            case Key::Url:
                settings.urls = parse_api_urls(chosen.values, chosen.origin);
                break;
            case Key::Timeout:
                settings.timeout_ms = parse_timeout_ms(chosen.values.front(), chosen.origin);
                break;
            case Key::TrustedCaFile:
                settings.trusted_ca_file = chosen.values.front();
                break;
            case Key::CertFile:
                settings.cert_file = chosen.values.front();
                break;
            case Key::KeyFile:
                settings.key_file = chosen.values.front();
                break;
        }
    }
    return settings;
}

std::string render_config(const Settings& settings) {
    YAML::Emitter out;
    out << YAML::BeginMap;
    out << YAML::Key << "url" << YAML::Value << YAML::BeginSeq;
    for (const auto& url : settings.urls) out << url;
    out << YAML::EndSeq;
    out << YAML::Key << "trusted-ca-file" << YAML::Value << settings.trusted_ca_file;
    out << YAML::Key << "cert-file" << YAML::Value << settings.cert_file;
    out << YAML::Key << "key-file" << YAML::Value << settings.key_file;
    const long long ms = settings.timeout_ms;
    out << YAML::Key << "timeout" << YAML::Value
        << (ms % 1000 == 0 ? std::to_string(ms / 1000) + "s" : std::to_string(ms) + "ms");
    out << YAML::EndMap;
    return "# trellisctl connection settings, written by `trellisctl configure`.\n"
           "# Precedence: flags > TRELLISCTL_* environment > this file > defaults. See docs/trellisctl.md.\n" +
           std::string(out.c_str()) + "\n";
}

fs::path default_config_path(const std::function<const char*(const char*)>& getenv) {
    const char* xdg = getenv("XDG_CONFIG_HOME");
    if (xdg != nullptr && *xdg == '/') return fs::path(xdg) / "trellis" / "cli.yml";
    const char* home = getenv("HOME");
    if (home != nullptr && *home != '\0') return fs::path(home) / ".config" / "trellis" / "cli.yml";
    return {};
}

}  // namespace trellis::ctl
