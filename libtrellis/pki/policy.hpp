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
// A certificate time. Whole seconds since the epoch in 64 bits cover every date X.509 can encode;
// system_clock's nanoseconds would overflow outside 1678-2262.
using Time = std::chrono::sys_seconds;
// The validity X.509 can carry (RFC 5280 4.1.2.5): UTCTime for 1950-2049, GeneralizedTime from 2050 to 9999.
inline constexpr Time kEarliestTime{std::chrono::seconds(-631152000)};  // 1950-01-01T00:00:00Z
inline constexpr Time kLatestTime{std::chrono::seconds(253402300799)};  // 9999-12-31T23:59:59Z

// A non-negative Go duration (core/duration.hpp: "43800h", "1h30m", "90s", "8760h0m0s") in whole seconds,
// as cfssl reads expiry and backdate. Code::PolicyBadDuration naming `where` on bad input.
Duration parse_duration(std::string_view text, std::string_view where);
std::string format_duration(Duration d);  // "43800h0m0s" like Go (format_go_duration)

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
    std::optional<Time> not_before, not_after;
    std::optional<std::string> name_whitelist;  // RE2 (Go regexp) pattern over the CN, DNS and email SANs
    std::string crl_url, ocsp_url;
    std::vector<std::string> issuer_urls;
};

struct SigningPolicy {
    Profile default_profile;
    std::map<std::string, Profile, std::less<>> profiles;

    // Looks up -profile. An empty name is the default. A name the config lacks
    // falls back to default with a warning, as cfssl does (silently) — or, when
    // `strict`, is Code::PolicyUnknownProfile. A default without usages (cfssl needs only its
    // expiry) cannot sign: selecting it is Code::PolicyNoUsages.
    const Profile& profile(std::string_view name, bool strict, Warnings& warnings) const;
};

// Parses ca-config.json strictly (unknown keys and usages are errors naming the key). As cfssl,
// a named profile takes crl_url, ocsp_url and issuer_urls from signing.default when it has none.
SigningPolicy parse_signing_policy(std::string_view json, std::string_view source);
// The same, reporting cfssl keys that are accepted but not acted on (remote signing, linting, ...) in `warnings`.
SigningPolicy parse_signing_policy(std::string_view json, std::string_view source, Warnings& warnings);
// RFC 3339 ("2024-01-02T03:04:05Z", "...+02:00", optional fraction) as Go's time.Time JSON reads it;
// Code::PolicyInvalid naming `where` on bad input or a time outside kEarliestTime..kLatestTime.
Time parse_rfc3339(std::string_view text, std::string_view where);
// "2025-01-02T03:04:05Z".
std::string format_rfc3339(Time t);
// cfssl's name_whitelist test of one name (CN, DNS or email SAN): an unanchored RE2 search, as Go's
// Regexp.Find. True when the profile has no whitelist.
bool whitelist_allows(const Profile& profile, std::string_view name);
// The KeyUsage bits (KU_*) and ExtendedKeyUsage NIDs of a list of usage names (all must be known).
int key_usage_bits(const std::vector<std::string>& usages);
std::vector<int> ext_key_usage_nids(const std::vector<std::string>& usages);
// cfssl's built-in policy when no -config is given.
SigningPolicy default_signing_policy();
// What `certgen print-defaults config` prints: default plus peer, server, client profiles.
std::string default_signing_policy_json();

}  // namespace trellis::pki
