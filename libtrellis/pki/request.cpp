#include "pki/request.hpp"

#include <algorithm>
#include <array>
#include <set>

#include <nlohmann/json.hpp>

#include "core/host.hpp"
#include "core/strict_json.hpp"
#include "core/text.hpp"
#include "pki/policy.hpp"

namespace trellis::pki {
namespace {

struct AlgoName {
    std::string_view name;
    KeyAlgorithm algo;
    int default_size;
};
// cfssl's "algo" spellings and the size each gets when "size" is left out.
constexpr std::array<AlgoName, 3> kAlgorithms{{
    {"rsa", KeyAlgorithm::Rsa, 2048},
    {"ecdsa", KeyAlgorithm::Ecdsa, 256},
    {"ed25519", KeyAlgorithm::Ed25519, 256},
}};

struct NameField {
    std::string_view key;
    std::string Name::*field;
};
constexpr std::array<NameField, 6> kNameFields{{
    {"C", &Name::C},
    {"ST", &Name::ST},
    {"L", &Name::L},
    {"O", &Name::O},
    {"OU", &Name::OU},
    {"E", &Name::E},
}};

KeyRequest parse_key(JsonObject obj) {
    KeyRequest key;
    const std::string algo = obj.string("algo").value_or("ecdsa");
    const AlgoName* found = nullptr;
    for (const auto& a : kAlgorithms)
        if (a.name == algo) found = &a;
    if (found == nullptr)
        obj.fail(
            Code::KeyUnsupported, "algo",
            "unknown key algorithm \"" + excerpt(algo) + "\" (supported: rsa 2048-8192, ecdsa 256/384/521, ed25519)");
    key.algo = found->algo;
    key.size = found->default_size;
    if (auto size = obj.integer("size")) {
        if (key.algo != KeyAlgorithm::Ed25519)
            key.size = static_cast<int>(std::clamp<std::int64_t>(*size, -1, 1 << 20));
    }
    obj.finish();
    try {
        validate(key);
    } catch (const Error& e) {
        obj.fail(e.code(), "size", e.what());
    }
    return key;
}

// A DNS SAN: a host name (core/host.hpp's one rule), optionally with a leading "*." wildcard.
std::optional<std::string> dns_problem(std::string_view name) {
    if (name.starts_with("*.")) name.remove_prefix(2);
    return hostname_problem(name);
}

// "scheme:rest" with an RFC 3986 scheme, as Go's url.ParseRequestURI accepts; "host:port" is not a URI.
bool is_uri(std::string_view s) {
    const size_t colon = s.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == s.size()) return false;
    if (!std::isalpha(static_cast<unsigned char>(s.front()))) return false;
    for (char c : s.substr(0, colon))
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') return false;
    const std::string_view rest = s.substr(colon + 1);
    if (std::all_of(rest.begin(), rest.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
        return false;
    return rest.find_first_of(" \t") == std::string_view::npos;
}

bool is_email(std::string_view s) {
    const size_t at = s.find('@');
    return at != std::string_view::npos && at > 0 && at + 1 < s.size() &&
           s.find('@', at + 1) == std::string_view::npos && s.find_first_of(" \t<>") == std::string_view::npos;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

}  // namespace

CertificateRequest parse_certificate_request(std::string_view json, std::string_view source, Warnings& warnings) {
    const nlohmann::json doc = parse_json(json, source);
    JsonObject top(doc, std::string(source));
    CertificateRequest req;
    req.cn = top.string("CN").value_or("");
    req.hosts = top.strings("hosts").value_or(std::vector<std::string>{});
    if (auto key = top.object("key")) req.key = parse_key(std::move(*key));
    if (auto names = top.objects("names")) {
        for (auto& obj : *names) {
            Name n;
            for (const auto& f : kNameFields) n.*f.field = obj.string(f.key).value_or("");
            obj.finish();
            req.names.push_back(std::move(n));
        }
    }
    if (auto ca = top.object("ca")) {
        CaOptions opts;
        if (auto pathlen = ca->integer("pathlen")) {
            if (*pathlen < 0 || *pathlen > 1000) ca->fail(Code::CsrInvalid, "pathlen", "must be between 0 and 1000");
            opts.pathlen = static_cast<int>(*pathlen);
        }
        opts.pathlenzero = ca->boolean("pathlenzero").value_or(false);
        if (opts.pathlen != 0 && opts.pathlenzero)
            ca->fail(Code::CsrInvalid, "pathlenzero", "cannot be true when pathlen is " + std::to_string(opts.pathlen));
        opts.expiry = ca->string("expiry").value_or("");
        if (!opts.expiry.empty() &&
            parse_duration(opts.expiry, located(ca->source(), ca->where("expiry"))).count() <= 0)
            ca->fail(Code::PolicyBadDuration, "expiry", "must be longer than 0s");
        opts.backdate = ca->string("backdate").value_or("");
        if (!opts.backdate.empty()) parse_duration(opts.backdate, located(ca->source(), ca->where("backdate")));
        ca->finish();
        req.ca = std::move(opts);
    }
    req.serialnumber = top.string("serialnumber").value_or("");
    top.finish();
    // Check the hosts now so a bad entry fails before any key is generated. Warnings (blank entries,
    // duplicates) are reported when the hosts are used: -hostname may replace them.
    Warnings later;
    classify_hosts(req.hosts, std::string(source) + ": hosts", later);
    (void)warnings;
    return req;
}

std::string default_certificate_request_json() {
    const nlohmann::json doc = {
        {"CN", "example.net"},
        {"hosts", {"example.net", "www.example.net"}},
        {"key", {{"algo", "ecdsa"}, {"size", 256}}},
        {"names", {{{"C", "US"}, {"ST", "CA"}, {"L", "San Francisco"}}}},
    };
    return doc.dump(4) + "\n";
}

SubjectAltNames classify_hosts(const std::vector<std::string>& hosts, std::string_view source, Warnings& warnings) {
    SubjectAltNames sans;
    std::set<std::string, std::less<>> seen;
    for (const auto& raw : hosts) {
        const std::string host(trim(raw));
        if (host.empty()) {
            warnings.push_back(located(source, "empty host entry dropped (it would have been an empty DNS name)"));
            continue;
        }
        std::vector<std::string>* bucket;
        std::string value;
        if (auto ip = canonical_ip(host)) {
            bucket = &sans.ips;
            value = *ip;
            if (value == "::" || value == "0.0.0.0")
                warnings.push_back(located(
                    source, "host \"" + excerpt(host) + "\" is the unspecified address; no client connects to it"));
        } else if (is_email(host)) {
            bucket = &sans.emails;
            value = host;
        } else if (is_uri(host)) {
            bucket = &sans.uris;
            value = host;
        } else {
            if (auto why = dns_problem(host))
                throw Error(Code::CsrBadHost,
                            located(source, "host \"" + excerpt(host) + "\" is not a valid DNS name: it " + *why));
            bucket = &sans.dns;
            value = host;
        }
        // DNS names and emails compare case-insensitively; IPs are already canonical.
        const std::string key = (bucket == &sans.uris ? "u" + value : "n" + lower(value));
        if (!seen.insert(key).second) {
            warnings.push_back(located(source, "duplicate host \"" + excerpt(host) + "\" folded"));
            continue;
        }
        bucket->push_back(std::move(value));
    }
    return sans;
}

std::vector<std::string> split_hostnames(std::string_view flag) { return split_on(flag, ','); }

}  // namespace trellis::pki
