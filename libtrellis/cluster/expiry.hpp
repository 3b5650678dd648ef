// `cluster-config check-expiration`'s report: every CA and leaf the certificate table finds under a
// provisioned DIR, when it expires, what signed it and who depends on it, and whether anything is
// inside the renewal window. Pure: the certificates come from a DirSnapshot, the clock is a parameter.
//
//   ExpiryReport r = expiry_report(find_certificates(DIR), read_dir(DIR), window, now);
//   r.due() / r.expired()   -> the CLI's exit code; expiry_table(r) / expiry_json(r) -> what it prints
#pragma once

#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/cert_table.hpp"
#include "cluster/plan.hpp"
#include "pki/certificate.hpp"
#include "pki/policy.hpp"

namespace trellis::cluster {

enum class ExpiryState { Valid, Due, Expired };  // Due: not expired, but inside the window
std::string_view expiry_state_name(ExpiryState state);

struct ExpiryRow {
    std::string name;  // cert_name(): "backend-1-peer", "admin", "ca"
    const CertKindInfo* kind = nullptr;
    std::filesystem::path file;  // relative to DIR
    std::string serial;          // decimal, as `trellisctl cluster certs` shows what a port serves
    pki::Clock::time_point not_after;
    pki::Duration left{};              // negative once expired
    std::string issuer;                // the signing CA's name ("ca", "peer-ca"); "" for a CA (self-signed)
    std::vector<std::string> used_by;  // a leaf: its node or client; a CA: every owner of a leaf it signs
    ExpiryState state = ExpiryState::Valid;
};

struct ExpiryReport {
    std::vector<ExpiryRow> rows;  // CAs first, then leaves by file
    pki::Duration window{};
    pki::Clock::time_point now;
    size_t due() const;      // inside the window, not yet expired
    size_t expired() const;  // past not-after
};

// One row per entry, read from the snapshot's copy of its certificate. An entry whose file is missing
// from the snapshot or is not a certificate is Code::CertParseFailed naming the file.
ExpiryReport expiry_report(std::span<const CertEntry> entries, const DirSnapshot& dir, pki::Duration window,
                           pki::Clock::time_point now);

// The window to judge by: `within` (a Go duration, Code::Usage when it is not one or negative), else the
// renew-before DIR's manifest recorded, else kDefaultRenewBefore.
pki::Duration expiry_window(const std::optional<std::string>& within, const DirSnapshot& dir);

// "364d 23h", "23h 59m", "expired 2d 3h ago": the largest two units, for a table.
std::string time_left_text(pki::Duration left);

// An aligned table (NAME KIND FILE NOT AFTER LEFT SIGNED BY USED BY STATE) and a closing summary line.
std::string expiry_table(const ExpiryReport& report);
// {"window":"720h0m0s","now":..,"due":N,"expired":N,"certificates":[{name,kind,file,serial,not_after,
// seconds_left,left,signed_by,used_by,state}]}
std::string expiry_json(const ExpiryReport& report);

}  // namespace trellis::cluster
