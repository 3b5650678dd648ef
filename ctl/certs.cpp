#include "certs.hpp"

#include <future>

#include "core/error.hpp"
#include "core/url.hpp"
#include "pki/certificate.hpp"
#include "store/tls_diagnosis.hpp"
#include "table.hpp"

namespace trellis::ctl {
namespace {

std::string host_of(const std::string& url) {
    const auto parsed = try_parse_url(url, UrlKind::Api);
    return parsed ? parsed->host : std::string();
}

// The first of `api_urls` on one of the member's hosts.
CertProbe api_probe(const api::Member& m, const std::vector<std::string>& api_urls) {
    for (const auto& api : api_urls) {
        const std::string host = host_of(api);
        for (const auto* list : {&m.client_urls, &m.peer_urls})
            for (const auto& u : *list)
                if (!host.empty() && host_of(u) == host) return {m.name, "api", api, {}};
    }
    return {m.name, "api", {}, "no --url names this member's host: add its API URL to read its certificate"};
}

CertProbe first_url(const api::Member& m, const std::string& port, const std::vector<std::string>& urls) {
    if (urls.empty()) return {m.name, port, {}, "the member list gives no " + port + " URL (not started yet?)"};
    return {m.name, port, urls.front(), {}};
}

ServedCert read_one(const CertProbe& probe, const store::ProbeOptions& options) {
    ServedCert out{probe, {}, {}, {}, {}, false, probe.error};
    if (probe.url.empty()) return out;
    const auto served = store::served_certificate(
        parse_url(probe.url, probe.port == "api" ? UrlKind::Api : UrlKind::Client, probe.port + " URL"), options);
    if (served.pem.empty()) {
        out.error = served.error;
        return out;
    }
    const auto cert = pki::Certificate::from_pem(served.pem, probe.url);
    out.subject = cert.subject_text();
    out.serial = cert.serial_decimal();
    out.issuer = cert.issuer_text();
    out.not_after = utc_text(cert.not_after());
    out.expired = cert.not_after() <= pki::Clock::now();
    return out;
}

}  // namespace

std::vector<CertProbe> cert_probes(const api::MembersAnswer& members, const std::vector<std::string>& api_urls) {
    std::vector<CertProbe> out;
    for (const auto& m : members.members) {
        out.push_back(first_url(m, "client", m.client_urls));
        out.push_back(first_url(m, "peer", m.peer_urls));
        out.push_back(api_probe(m, api_urls));
    }
    return out;
}

std::vector<ServedCert> read_served(const std::vector<CertProbe>& probes, const Settings& settings) {
    const store::ProbeOptions options{.cert_file = settings.cert_file,
                                      .key_file = settings.key_file,
                                      .timeout = std::chrono::milliseconds(settings.timeout_ms),
                                      .ca_file = {}};  // served certificates are read, not judged
    std::vector<std::future<ServedCert>> pending;
    for (const auto& p : probes)
        pending.push_back(std::async(std::launch::async, [&p, &options] {
            try {
                return read_one(p, options);
            } catch (const std::exception& e) {
                return ServedCert{p, {}, {}, {}, {}, false, e.what()};
            }
        }));
    std::vector<ServedCert> out;
    for (auto& f : pending) out.push_back(f.get());
    return out;
}

api::Json served_json(const std::vector<ServedCert>& served) {
    api::Json list = api::Json::array();
    for (const auto& s : served) {
        api::Json row{{"Node", s.where.node}, {"Port", s.where.port}, {"URL", s.where.url}};
        if (s.error.empty())
            row.update({{"Subject", s.subject},
                        {"Serial", s.serial},
                        {"Issuer", s.issuer},
                        {"NotAfter", s.not_after},
                        {"Expired", s.expired}});
        else
            row["Error"] = s.error;
        list.push_back(std::move(row));
    }
    return {{"Certificates", list}};
}

std::string served_table(const std::vector<ServedCert>& served) {
    const auto or_error = [](const ServedCert& s, const std::string& value) {
        return s.error.empty() ? value : std::string("-");
    };
    const std::vector<Column<ServedCert>> columns{
        {"Name", [](const ServedCert& s) { return s.where.node; }},
        {"Port", [](const ServedCert& s) { return s.where.port; }},
        {"URL", [](const ServedCert& s) { return s.where.url.empty() ? std::string("-") : s.where.url; }},
        {"Serial", [&](const ServedCert& s) { return or_error(s, s.serial); }},
        {"Not After", [&](const ServedCert& s) { return or_error(s, s.not_after + (s.expired ? " (EXPIRED)" : "")); }},
        {"Subject", [&](const ServedCert& s) { return s.error.empty() ? s.subject : "error: " + s.error; }},
        {"Issuer", [&](const ServedCert& s) { return or_error(s, s.issuer); }},
    };
    return render_table(columns, served);
}

int cluster_certs(const ApiClient& client, Format format, std::ostream& out) {
    const Response response =
        client.send(Method::Get, std::string(api::kMembersPath), [](const Response& r) { return r.status < 500; });
    if (response.status != 200) throw api_error(response);
    const auto members = api::decode_members(api::parse_json(response.body, response.url), response.url);
    const auto served = read_served(cert_probes(members, client.settings().urls), client.settings());
    out << (format == Format::Table ? served_table(served) : render_document(served_json(served), format));
    out.flush();
    std::string missing, expired;
    for (const auto& s : served) {
        const std::string where = s.where.node + " " + s.where.port;
        if (!s.error.empty()) missing += (missing.empty() ? "" : "; ") + where + ": " + s.error;
        if (s.expired) expired += (expired.empty() ? "" : ", ") + where + " (" + s.not_after + ")";
    }
    if (!expired.empty()) throw Error(Code::CertExpired, "expired certificates served: " + expired);
    if (!missing.empty()) throw Error(Code::ConnectFailed, "no certificate read from " + missing);
    return 0;
}

}  // namespace trellis::ctl
