// `trellisctl cluster certs`: the certificate every member actually serves right now on its
// client, peer and API ports, read from a TLS handshake to each, so a node still serving an
// old certificate after a renewal shows up. The probes verify nothing (they report, not trust).
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "api/wire.hpp"
#include "client.hpp"
#include "views.hpp"

namespace trellis::ctl {

// One port to read: the member, which of its ports ("client", "peer", "api") and its URL
// (empty when the member has no such URL we know of; `error` says why).
struct CertProbe {
    std::string node;
    std::string port;
    std::string url;
    std::string error;
};

// What one port served.
struct ServedCert {
    CertProbe where;
    std::string subject, serial, issuer, not_after;  // empty when no certificate came
    bool expired = false;
    std::string error;  // why no certificate came
};

// Every member's first client and peer URL, and its API: the first of `api_urls` on one of the
// member's hosts. Pure, for tests.
std::vector<CertProbe> cert_probes(const api::MembersAnswer& members, const std::vector<std::string>& api_urls);

// Reads every probe's certificate in parallel, each handshake bounded by the settings' timeout, presenting
// the settings' client certificate (a peer port refuses it, after sending its own certificate).
std::vector<ServedCert> read_served(const std::vector<CertProbe>& probes, const Settings& settings);

// {"Certificates":[{"Node","Port","URL","Subject","Serial","Issuer","NotAfter","Expired","Error"}]}
api::Json served_json(const std::vector<ServedCert>& served);
std::string served_table(const std::vector<ServedCert>& served);

// The command: member list through the API, then one handshake per port. Exit 0 when every port served
// a certificate valid now; Code::CertExpired (exit 1) when one is expired; Code::ConnectFailed (exit 3)
// when a port served none.
int cluster_certs(const ApiClient& client, Format format, std::ostream& out);

}  // namespace trellis::ctl
