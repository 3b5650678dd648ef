#include "cluster/expiry.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/duration.hpp"
#include "core/table.hpp"

namespace trellis::cluster {
namespace {

ExpiryState state_of(pki::Duration left, pki::Duration window) {
    if (left.count() <= 0) return ExpiryState::Expired;
    return left < window ? ExpiryState::Due : ExpiryState::Valid;
}

// A CA is used by every node and client holding a leaf it signed, in the entries' order, once each.
std::vector<std::string> ca_users(const CertEntry& ca, std::span<const CertEntry> entries) {
    std::vector<std::string> out;
    for (const auto& e : entries)
        if (!e.kind->is_ca() && *e.kind->issuer == ca.kind->kind &&
            std::find(out.begin(), out.end(), e.owner) == out.end())
            out.push_back(e.owner);
    return out;
}

ExpiryRow row_of(const CertEntry& e, std::span<const CertEntry> entries, const DirSnapshot& dir,
                 const ExpiryReport& report) {
    const FileState* file = dir.find(e.cert);
    if (!file) throw Error(Code::CertParseFailed, located(e.cert.string(), "listed but not read"));
    const auto cert = pki::Certificate::from_pem(file->content, e.cert.string());
    ExpiryRow r;
    r.name = cert_name(e);
    r.kind = e.kind;
    r.file = e.cert;
    r.serial = cert.serial_decimal();
    r.not_after = cert.not_after();
    r.left = std::chrono::duration_cast<pki::Duration>(r.not_after - report.now);
    r.issuer = e.kind->is_ca() ? "" : e.issuer_cert.stem().string();
    r.used_by = e.kind->is_ca() ? ca_users(e, entries) : std::vector<std::string>{e.owner};
    r.state = state_of(r.left, report.window);
    return r;
}

std::string joined(const std::vector<std::string>& parts) {
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : ",") + p;
    return out;
}

std::string summary(const ExpiryReport& r) {
    const std::string window = format_go_duration(r.window);
    if (r.due() + r.expired() == 0)
        return std::to_string(r.rows.size()) + " certificate(s), none expires within " + window + "\n";
    return std::to_string(r.rows.size()) + " certificate(s): " + std::to_string(r.expired()) + " expired, " +
           std::to_string(r.due()) + " expire within " + window +
           "; renew the leaves with `cluster-config renew SPEC --out DIR`\n";
}

}  // namespace

std::string_view expiry_state_name(ExpiryState state) {
    switch (state) {
        case ExpiryState::Valid:
            return "ok";
        case ExpiryState::Due:
            return "renew";
        case ExpiryState::Expired:
            return "expired";
    }
    return "?";
}

size_t ExpiryReport::due() const {
    return std::count_if(rows.begin(), rows.end(), [](const ExpiryRow& r) { return r.state == ExpiryState::Due; });
}

size_t ExpiryReport::expired() const {
    return std::count_if(rows.begin(), rows.end(), [](const ExpiryRow& r) { return r.state == ExpiryState::Expired; });
}

ExpiryReport expiry_report(std::span<const CertEntry> entries, const DirSnapshot& dir, pki::Duration window,
                           pki::Clock::time_point now) {
    ExpiryReport report;
    report.window = window;
    report.now = now;
    for (const bool cas : {true, false})
        for (const auto& e : entries)
            if (e.kind->is_ca() == cas) report.rows.push_back(row_of(e, entries, dir, report));
    return report;
}

pki::Duration expiry_window(const std::optional<std::string>& within, const DirSnapshot& dir) {
    if (!within) return dir.renew_before.value_or(kDefaultRenewBefore);
    std::string why;
    const auto d = parse_go_duration(*within, &why);
    if (d && d->count() < 0) why = "it is negative";
    if (!d || d->count() < 0)
        throw Error(Code::Usage, "--within \"" + excerpt(*within) + "\" is not a duration: " + why +
                                     " (write it like \"720h\" or \"90m\")");
    return std::chrono::duration_cast<pki::Duration>(*d);
}

std::string time_left_text(pki::Duration left) {
    using namespace std::chrono;
    const bool past = left.count() <= 0;
    const auto abs = past ? -left : left;
    const days d = duration_cast<days>(abs);
    const hours h = duration_cast<hours>(abs - d);
    const minutes m = duration_cast<minutes>(abs - d - h);
    std::string text;
    if (d.count() > 0)
        text = std::to_string(d.count()) + "d " + std::to_string(h.count()) + "h";
    else
        text = std::to_string(h.count()) + "h " + std::to_string(m.count()) + "m";
    return past ? "expired " + text + " ago" : text;
}

std::string expiry_table(const ExpiryReport& report) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& r : report.rows)
        rows.push_back({r.name, std::string(r.kind->name), r.file.string(), utc_text(r.not_after),
                        time_left_text(r.left), r.issuer.empty() ? "(self)" : r.issuer, joined(r.used_by),
                        std::string(expiry_state_name(r.state))});
    return render_table({"NAME", "KIND", "FILE", "NOT AFTER", "LEFT", "SIGNED BY", "USED BY", "STATE"}, rows) +
           summary(report);
}

std::string expiry_json(const ExpiryReport& report) {
    nlohmann::json certs = nlohmann::json::array();
    for (const auto& r : report.rows)
        certs.push_back({{"name", r.name},
                         {"kind", std::string(r.kind->name)},
                         {"file", r.file.string()},
                         {"serial", r.serial},
                         {"not_after", utc_text(r.not_after)},
                         {"seconds_left", r.left.count()},
                         {"left", time_left_text(r.left)},
                         {"signed_by", r.issuer},
                         {"used_by", r.used_by},
                         {"state", std::string(expiry_state_name(r.state))}});
    return nlohmann::json{{"window", format_go_duration(report.window)},
                          {"now", utc_text(report.now)},
                          {"due", report.due()},
                          {"expired", report.expired()},
                          {"certificates", certs}}
        .dump();
}

}  // namespace trellis::cluster
