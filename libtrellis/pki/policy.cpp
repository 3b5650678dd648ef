#include "pki/policy.hpp"

#include <openssl/obj_mac.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <ctime>
#include <memory>
#include <unordered_map>

#include <re2/re2.h>
#include <nlohmann/json.hpp>

#include "core/duration.hpp"
#include "core/strict_json.hpp"

namespace trellis::pki {
namespace {

// Every usage name cfssl's config.KeyUsage and config.ExtKeyUsage maps know, and what it sets.
constexpr auto kUsages = std::to_array<Usage>({
    {"signing", KU_DIGITAL_SIGNATURE, 0},
    {"digital signature", KU_DIGITAL_SIGNATURE, 0},
    {"content commitment", KU_NON_REPUDIATION, 0},
    {"key encipherment", KU_KEY_ENCIPHERMENT, 0},
    {"key agreement", KU_KEY_AGREEMENT, 0},
    {"data encipherment", KU_DATA_ENCIPHERMENT, 0},
    {"cert sign", KU_KEY_CERT_SIGN, 0},
    {"crl sign", KU_CRL_SIGN, 0},
    {"encipher only", KU_ENCIPHER_ONLY, 0},
    {"decipher only", KU_DECIPHER_ONLY, 0},
    {"any", 0, NID_anyExtendedKeyUsage},
    {"server auth", 0, NID_server_auth},
    {"client auth", 0, NID_client_auth},
    {"code signing", 0, NID_code_sign},
    {"email protection", 0, NID_email_protect},
    {"s/mime", 0, NID_email_protect},
    {"ipsec end system", 0, NID_ipsecEndSystem},
    {"ipsec tunnel", 0, NID_ipsecTunnel},
    {"ipsec user", 0, NID_ipsecUser},
    {"timestamping", 0, NID_time_stamp},
    {"ocsp signing", 0, NID_OCSP_sign},
    {"microsoft sgc", 0, NID_ms_sgc},
    {"netscape sgc", 0, NID_ns_sgc},
});

// Keys cfssl's SigningProfile defines that certgen reads but does not act on: remote and
// authenticated signing, linting, CT, certificate stores, policies, extension copying.
constexpr std::array<std::string_view, 13> kIgnoredProfileKeys{
    "ocsp_no_check", "auth_key",         "prev_auth_key",  "remote",
    "auth_remote",   "copy_extensions",  "ct_log_servers", "allowed_extensions",
    "cert_store",    "lint_error_level", "ignored_lints",  "ignored_lint_sources",
    "policies",
};
// Top-level keys of cfssl's Config besides "signing".
constexpr std::array<std::string_view, 3> kIgnoredTopKeys{"ocsp", "auth_keys", "remotes"};

bool is_set(const nlohmann::json& v) {
    if (v.is_boolean()) return v.get<bool>();
    if (v.is_string() || v.is_array() || v.is_object()) return !v.empty();
    if (v.is_number()) return v != 0;
    return false;
}

std::vector<std::string> usage_names() {
    std::vector<std::string> out;
    for (const auto& u : kUsages) out.emplace_back(u.name);
    return out;
}

void tolerate(JsonObject& obj, std::span<const std::string_view> keys, Warnings& warnings) {
    for (const auto key : keys) {
        const nlohmann::json* v = obj.raw(key);
        if (v != nullptr && is_set(*v))
            warnings.push_back(
                located(obj.source(), obj.where(key) + ": accepted for cfssl compatibility but ignored"));
    }
}

// Go's regexp is RE2: linear-time matching and a bounded parser, so a hostile pattern or name can
// neither hang nor overflow the stack (ECMAScript std::regex can do both).
std::unique_ptr<RE2> compile_whitelist(std::string_view pattern) {
    RE2::Options options;
    options.set_log_errors(false);
    return std::make_unique<RE2>(re2::StringPiece(pattern.data(), pattern.size()), options);
}

// Go's regexp refuses patterns nesting deeper than 1000 groups; so do we, as cfssl would.
size_t group_depth(std::string_view pattern) {
    size_t depth = 0, deepest = 0;
    bool in_class = false;
    for (size_t i = 0; i < pattern.size(); ++i) {
        const char c = pattern[i];
        if (c == '\\') {
            ++i;  // an escaped character is never a group
        } else if (in_class) {
            in_class = c != ']';
        } else if (c == '[') {
            in_class = true;
        } else if (c == '(') {
            deepest = std::max(deepest, ++depth);
        } else if (c == ')' && depth > 0) {
            --depth;
        }
    }
    return deepest;
}

std::optional<std::string> whitelist_error(std::string_view pattern) {
    if (group_depth(pattern) > 1000)
        return "\"" + excerpt(pattern) + "\" nests groups deeper than 1000 levels, which Go's regexp refuses";
    const auto re = compile_whitelist(pattern);
    if (re->ok()) return std::nullopt;
    return "\"" + excerpt(pattern) + "\" is not a valid regular expression (Go/RE2 syntax): " + excerpt(re->error());
}

void parse_usages(JsonObject& obj, const std::string& label, Profile& p) {
    if (auto usages = obj.strings("usages")) {
        for (const auto& u : *usages) {
            if (find_usage(u) != nullptr) continue;
            std::string why = label + " has unknown usage \"" + excerpt(u) + "\"";
            if (auto guess = closest_match(u, usage_names())) why += " (did you mean \"" + *guess + "\"?)";
            obj.fail(Code::PolicyUnknownUsage, "usages", why);
        }
        p.usages = std::move(*usages);
    }
}

void parse_validity(JsonObject& obj, const std::string& label, Profile& p) {
    // cfssl refuses any profile without an expiry ("empty expiry string"), the default included.
    if (auto expiry = obj.string("expiry")) {
        p.expiry = parse_duration(*expiry, located(obj.source(), obj.where("expiry")));
        if (p.expiry.count() <= 0) obj.fail(Code::PolicyBadDuration, "expiry", "must be longer than 0s");
    } else {
        obj.fail(Code::PolicyBadDuration, "expiry", label + " has no expiry (cfssl requires one, e.g. \"8760h\")");
    }
    if (auto backdate = obj.string("backdate"))
        p.backdate = parse_duration(*backdate, located(obj.source(), obj.where("backdate")));
    if (auto nb = obj.string("not_before"))
        p.not_before = parse_rfc3339(*nb, located(obj.source(), obj.where("not_before")));
    if (auto na = obj.string("not_after"))
        p.not_after = parse_rfc3339(*na, located(obj.source(), obj.where("not_after")));
    if (p.not_before && p.not_after && *p.not_after < *p.not_before)
        obj.fail(Code::PolicyInvalid, "not_after", "is before not_before");
}

void parse_ca_constraint(JsonObject& obj, Profile& p) {
    auto ca = obj.object("ca_constraint");
    if (!ca) return;
    p.is_ca = ca->boolean("is_ca").value_or(false);
    if (auto len = ca->integer("max_path_len")) {
        if (*len < -1 || *len > 1000) ca->fail(Code::PolicyInvalid, "max_path_len", "must be between -1 and 1000");
        p.max_path_len = static_cast<int>(*len);
    }
    p.max_path_len_zero = ca->boolean("max_path_len_zero").value_or(false);
    ca->finish();
}

// `defaults` is signing.default when parsing a named profile (nullptr for the default itself).
Profile parse_profile(JsonObject obj, std::string_view name, const Profile* defaults, Warnings& warnings) {
    Profile p;
    const std::string label = name.empty() ? std::string("default profile") : "profile \"" + std::string(name) + "\"";
    parse_usages(obj, label, p);
    // cfssl validates a named profile's usages; the default needs only an expiry (it may serve just to
    // give named profiles their expiry and URLs), so its usages are checked when it is used to sign.
    if (p.usages.empty() && defaults != nullptr)
        obj.fail(Code::PolicyNoUsages, "usages",
                 label +
                     " lists no usages (for a TLS peer: [\"signing\", \"key encipherment\", \"server auth\", \"client "
                     "auth\"])");
    parse_validity(obj, label, p);
    parse_ca_constraint(obj, p);
    if (auto wl = obj.string("name_whitelist")) {
        if (auto why = whitelist_error(*wl)) obj.fail(Code::PolicyInvalid, "name_whitelist", *why);
        p.name_whitelist = std::move(*wl);
    }
    p.crl_url = obj.string("crl_url").value_or(defaults ? defaults->crl_url : "");
    p.ocsp_url = obj.string("ocsp_url").value_or(defaults ? defaults->ocsp_url : "");
    p.issuer_urls = obj.strings("issuer_urls").value_or(defaults ? defaults->issuer_urls : std::vector<std::string>{});
    // Go's encoding/json matches field names case-insensitively; cfssl's Policies has no tag.
    obj.accept("policies");
    obj.accept("Policies");
    tolerate(obj, std::array<std::string_view, 1>{"Policies"}, warnings);
    tolerate(obj, kIgnoredProfileKeys, warnings);
    obj.finish();
    return p;
}

}  // namespace

std::span<const Usage> usage_table() { return kUsages; }

const Usage* find_usage(std::string_view name) {
    for (const auto& u : kUsages)
        if (u.name == name) return &u;
    return nullptr;
}

int key_usage_bits(const std::vector<std::string>& usages) {
    int bits = 0;
    for (const auto& u : usages)
        if (const Usage* found = find_usage(u)) bits |= found->key_usage;
    return bits;
}

std::vector<int> ext_key_usage_nids(const std::vector<std::string>& usages) {
    std::vector<int> out;
    for (const auto& u : usages) {
        const Usage* found = find_usage(u);
        if (found == nullptr || found->ext_key_usage_nid == 0) continue;
        if (std::find(out.begin(), out.end(), found->ext_key_usage_nid) == out.end())
            out.push_back(found->ext_key_usage_nid);
    }
    return out;
}

Duration parse_duration(std::string_view text, std::string_view where) {
    std::string why;
    const auto d = parse_go_duration(text, &why);
    if (d && d->count() < 0) why = "it is negative";
    if (!d || d->count() < 0)
        throw Error(Code::PolicyBadDuration, located(where, "\"" + excerpt(text) + "\" is not a duration: " + why +
                                                                " (write it like \"8760h\", \"1h30m\" or \"90s\")"));
    return std::chrono::duration_cast<Duration>(*d);
}

std::string format_duration(Duration d) { return format_go_duration(d); }

Time parse_rfc3339(std::string_view text, std::string_view where) {
    const auto bad = [&](std::string_view why) -> Time {
        throw Error(Code::PolicyInvalid, located(where, "\"" + excerpt(text) + "\" " + std::string(why)));
    };
    constexpr std::string_view kShape = "is not an RFC 3339 time (write it like \"2025-01-02T03:04:05Z\")";
    const std::string s(text.substr(0, 64));
    int y, mo, d, h, mi, sec, n = 0;
    if (text.size() > 64 || std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
        n != 19)
        return bad(kShape);
    namespace chr = std::chrono;
    const chr::year_month_day date{chr::year{y}, chr::month{static_cast<unsigned>(mo)},
                                   chr::day{static_cast<unsigned>(d)}};
    if (!date.ok() || h > 23 || mi > 59 || sec > 60) return bad(kShape);
    std::string_view rest = std::string_view(s).substr(19);
    if (!rest.empty() && rest.front() == '.') {
        rest.remove_prefix(1);
        size_t k = 0;
        while (k < rest.size() && std::isdigit(static_cast<unsigned char>(rest[k]))) ++k;
        if (k == 0) return bad(kShape);
        rest.remove_prefix(k);  // sub-second precision is irrelevant to certificate times
    }
    long offset = 0;
    if (rest == "Z" || rest == "z") {
    } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
        int oh, om;
        if (std::sscanf(std::string(rest.substr(1)).c_str(), "%2d:%2d", &oh, &om) != 2 || oh > 23 || om > 59)
            return bad(kShape);
        offset = (oh * 3600L + om * 60L) * (rest[0] == '-' ? -1 : 1);
    } else {
        return bad(kShape);
    }
    const Time t = chr::sys_days{date} + chr::hours(h) + chr::minutes(mi) + chr::seconds(sec - offset);
    if (t < kEarliestTime || t > kLatestTime)
        return bad(
            "is outside what a certificate can hold: X.509 validity runs from 1950-01-01 (UTCTime) to "
            "9999-12-31 (GeneralizedTime)");
    return t;
}

bool whitelist_allows(const Profile& profile, std::string_view name) {
    if (!profile.name_whitelist) return true;
    // Compiling costs more than matching; profiles are few, so keep them per thread.
    thread_local std::unordered_map<std::string, std::unique_ptr<RE2>> cache;
    auto it = cache.find(*profile.name_whitelist);
    if (it == cache.end())
        it = cache.emplace(*profile.name_whitelist, compile_whitelist(*profile.name_whitelist)).first;
    if (!it->second->ok()) return false;  // parse_signing_policy refuses these; a hand-built profile fails closed
    return RE2::PartialMatch(re2::StringPiece(name.data(), name.size()), *it->second);
}

std::string format_rfc3339(Time t) {
    namespace chr = std::chrono;
    const auto day = chr::floor<chr::days>(t);
    const chr::year_month_day date{day};
    const chr::hh_mm_ss time{t - day};
    char buf[40];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02ld:%02ld:%02ldZ", static_cast<int>(date.year()),
                  static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                  static_cast<long>(time.hours().count()), static_cast<long>(time.minutes().count()),
                  static_cast<long>(time.seconds().count()));
    return buf;
}

const Profile& SigningPolicy::profile(std::string_view name, bool strict, Warnings& warnings) const {
    const auto usable = [](const Profile& p) -> const Profile& {
        if (p.usages.empty())
            throw Error(Code::PolicyNoUsages,
                        "signing.default lists no usages, so it cannot sign: choose a profile with -profile or add "
                        "\"usages\" to signing.default");
        return p;
    };
    if (name.empty() || name == "default") return usable(default_profile);
    if (auto it = profiles.find(name); it != profiles.end()) return it->second;
    std::string known;
    std::vector<std::string> names;
    for (const auto& [n, _] : profiles) {
        known += (known.empty() ? "" : ", ") + n;
        names.push_back(n);
    }
    std::string msg = "profile \"" + std::string(name) + "\" is not in the signing configuration";
    if (auto guess = closest_match(name, names)) msg += " (did you mean \"" + *guess + "\"?)";
    msg += known.empty() ? "; it has only the default profile" : "; it has: default, " + known;
    if (strict) throw Error(Code::PolicyUnknownProfile, msg);
    warnings.push_back(msg + "; using the default profile, as cfssl does");
    return usable(default_profile);
}

SigningPolicy parse_signing_policy(std::string_view json, std::string_view source) {
    Warnings ignored;
    return parse_signing_policy(json, source, ignored);
}

SigningPolicy parse_signing_policy(std::string_view json, std::string_view source, Warnings& warnings) {
    const nlohmann::json doc = parse_json(json, source);
    JsonObject top(doc, std::string(source));
    SigningPolicy policy;
    auto signing = top.object("signing");
    if (!signing)
        top.fail(Code::PolicyInvalid, "signing", "missing: a signing configuration needs a \"signing\" object");
    if (auto def = signing->object("default")) {
        policy.default_profile = parse_profile(std::move(*def), "", nullptr, warnings);
    } else {
        policy.default_profile = default_signing_policy().default_profile;
    }
    for (auto& [name, obj] : signing->members("profiles"))
        policy.profiles.emplace(name, parse_profile(std::move(obj), name, &policy.default_profile, warnings));
    signing->finish();
    tolerate(top, kIgnoredTopKeys, warnings);
    top.finish();
    return policy;
}

SigningPolicy default_signing_policy() {
    // cfssl's config.DefaultConfig(): a year, usable as both TLS server and client.
    SigningPolicy policy;
    policy.default_profile.usages = {"signing", "key encipherment", "server auth", "client auth"};
    policy.default_profile.expiry = std::chrono::hours(8760);
    return policy;
}

std::string default_signing_policy_json() {
    // "peer" serves and dials (etcd members talk to each other both ways; etcd's gRPC gateway also
    // dials back into its own client port with the server certificate, so etcd server certs want
    // client auth too: give etcd members "peer"). "server" is for plain web servers only.
    const nlohmann::json doc = {
        {"signing",
         {{"default", {{"expiry", "8760h"}, {"usages", {"signing", "key encipherment", "server auth", "client auth"}}}},
          {"profiles",
           {{"peer", {{"expiry", "8760h"}, {"usages", {"signing", "key encipherment", "server auth", "client auth"}}}},
            {"server", {{"expiry", "8760h"}, {"usages", {"signing", "key encipherment", "server auth"}}}},
            {"client", {{"expiry", "8760h"}, {"usages", {"signing", "key encipherment", "client auth"}}}}}}}}};
    return doc.dump(4) + "\n";
}

}  // namespace trellis::pki
