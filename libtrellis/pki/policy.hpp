// Signing policy: cfssl's ca-config.json (signing.default and
// signing.profiles), Go-style durations, and the one table that maps cfssl's
// usage names to X.509 KeyUsage bits and ExtendedKeyUsage OIDs.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace trellis::pki {

using Duration = std::chrono::seconds;

// Go's time.ParseDuration subset cfssl uses: "43800h", "1h30m", "90s", "8760h0m0s".
// Code::PolicyBadDuration naming `where` on bad input.
Duration parse_duration(std::string_view text, std::string_view where);
std::string format_duration(Duration d);  // "43800h0m0s" like Go

// One cfssl usage name and what it sets: a KeyUsage bit (KU_* from OpenSSL) or
// an ExtendedKeyUsage NID (NID_*); exactly one of the two is non-zero.
struct Usage {
    std::string_view name;
    int key_usage;
    int ext_key_usage_nid;
};
std::span<const Usage> usage_table();
const Usage* find_usage(std::string_view name);

struct Profile {
    std::vector<std::string> usages;
    Duration expiry{std::chrono::hours(8760)};
    Duration backdate{std::chrono::minutes(5)};
    bool is_ca = false;     // ca_constraint.is_ca
    int max_path_len = -1;  // ca_constraint.max_path_len (-1: unset)
    bool max_path_len_zero = false;
    std::optional<std::chrono::system_clock::time_point> not_before, not_after;
    std::optional<std::string> name_whitelist;  // ECMAScript regex over CN and SANs
    std::string crl_url, ocsp_url;
    std::vector<std::string> issuer_urls;
};

struct SigningPolicy {
    Profile default_profile;
    std::map<std::string, Profile, std::less<>> profiles;

    // Looks up -profile. An empty name is the default. A name the config lacks
    // falls back to default with a warning, as cfssl does (silently) — or, when
    // `strict`, is Code::PolicyUnknownProfile.
    const Profile& profile(std::string_view name, bool strict, Warnings& warnings) const;
};

// Parses ca-config.json strictly (unknown keys and usages are errors naming the key).
SigningPolicy parse_signing_policy(std::string_view json, std::string_view source);
// The same, reporting cfssl keys that are accepted but not acted on (remote signing, linting, ...) in `warnings`.
SigningPolicy parse_signing_policy(std::string_view json, std::string_view source, Warnings& warnings);
// RFC 3339 ("2024-01-02T03:04:05Z", "...+02:00", optional fraction) as Go's time.Time JSON reads it;
// Code::PolicyInvalid naming `where` on bad input.
std::chrono::system_clock::time_point parse_rfc3339(std::string_view text, std::string_view where);
// The KeyUsage bits (KU_*) and ExtendedKeyUsage NIDs of a list of usage names (all must be known).
int key_usage_bits(const std::vector<std::string>& usages);
std::vector<int> ext_key_usage_nids(const std::vector<std::string>& usages);
// cfssl's built-in policy when no -config is given.
SigningPolicy default_signing_policy();
// What `certgen print-defaults config` prints: default plus peer, server, client profiles.
std::string default_signing_policy_json();

}  // namespace trellis::pki
