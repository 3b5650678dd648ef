// cfssl's certificate request JSON ("CSR JSON"): what to put in a certificate
// and what key to make for it, plus classification of "hosts" into SANs.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "pki/key.hpp"

namespace trellis::pki {

// One entry of "names": a subject RDN set.
struct Name {
    std::string C, ST, L, O, OU, E;
};

// The "ca" object: constraints and validity when the request makes a CA.
struct CaOptions {
    int pathlen = 0;
    bool pathlenzero = false;
    std::string expiry;    // Go duration, default 43800h
    std::string backdate;  // Go duration
};

struct CertificateRequest {
    std::string cn;
    std::vector<std::string> hosts;
    KeyRequest key;  // absent in JSON => ECDSA P-256
    std::vector<Name> names;
    std::optional<CaOptions> ca;
    std::string serialnumber;  // subject serialNumber attribute
};

// Parses and checks CSR JSON exactly as cfssl reads it, but strictly: unknown
// keys and wrong types are errors naming `source` and the key.
CertificateRequest parse_certificate_request(std::string_view json, std::string_view source, Warnings& warnings);

// The request `certgen print-defaults csr` prints.
std::string default_certificate_request_json();

// Subject alternative names, classified as cfssl does: an IP literal is an IP,
// something with '@' an email, something with "://" a URI, otherwise DNS.
struct SubjectAltNames {
    std::vector<std::string> dns;
    std::vector<std::string> ips;  // canonical text form
    std::vector<std::string> emails;
    std::vector<std::string> uris;
    bool empty() const { return dns.empty() && ips.empty() && emails.empty() && uris.empty(); }
};

// Blank entries are dropped with a warning (the guide's "hosts":[""]);
// duplicates folded with a warning; invalid DNS names are Code::CsrBadHost.
SubjectAltNames classify_hosts(const std::vector<std::string>& hosts, std::string_view source, Warnings& warnings);

// Splits cfssl's -hostname flag ("a,b, c") into entries.
std::vector<std::string> split_hostnames(std::string_view flag);

}  // namespace trellis::pki
