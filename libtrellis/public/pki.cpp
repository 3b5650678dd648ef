// The public API's keys, certificates, issuing and verification (include/trellis/): thin
// conversions to and from the pki part, so that no OpenSSL type crosses the public headers.
#include <optional>
#include <utility>

#include "core/parallel.hpp"
#include "pki/issue.hpp"
#include "pki/verify.hpp"
#include "public/pki_impl.hpp"
#include "trellis/issuing.hpp"
#include "trellis/verification.hpp"

namespace trellis {

using detail::wrap;

namespace {

static_assert(static_cast<int>(KeyAlgorithm::Rsa) == static_cast<int>(pki::KeyAlgorithm::Rsa) &&
              static_cast<int>(KeyAlgorithm::Ecdsa) == static_cast<int>(pki::KeyAlgorithm::Ecdsa) &&
              static_cast<int>(KeyAlgorithm::Ed25519) == static_cast<int>(pki::KeyAlgorithm::Ed25519));
static_assert(static_cast<int>(Purpose::Any) == static_cast<int>(pki::Purpose::Any) &&
              static_cast<int>(Purpose::ServerAuth) == static_cast<int>(pki::Purpose::ServerAuth) &&
              static_cast<int>(Purpose::ClientAuth) == static_cast<int>(pki::Purpose::ClientAuth));

pki::KeyRequest to_pki(const KeySpec& spec) { return {static_cast<pki::KeyAlgorithm>(spec.algorithm), spec.bits}; }

std::vector<pki::Certificate> to_pki(const std::vector<Certificate>& certs) {
    std::vector<pki::Certificate> out;
    out.reserve(certs.size());
    for (const auto& c : certs) out.push_back(c.impl().cert);
    return out;
}

std::vector<pki::Name> organization_names(const std::string& organization) {
    if (organization.empty()) return {};
    pki::Name name;
    name.O = organization;
    return {name};
}

// cfssl's usage names (pki's usage table) for what a leaf is for.
std::vector<std::string> usage_names(const CertificateSpec& spec) {
    std::vector<std::string> names{"signing"};
    if (spec.key.algorithm == KeyAlgorithm::Rsa) names.emplace_back("key encipherment");
    for (Usage u : spec.usages) names.emplace_back(u == Usage::ServerAuth ? "server auth" : "client auth");
    return names;
}

}  // namespace

PrivateKey::PrivateKey(std::shared_ptr<const detail::KeyImpl> impl) : impl_(std::move(impl)) {}

PrivateKey PrivateKey::generate(const KeySpec& spec) {
    const pki::KeyRequest request = to_pki(spec);
    pki::validate(request);
    return wrap(pki::PrivateKey::generate(request));
}

PrivateKey PrivateKey::from_pem(std::string_view pem, std::string_view source,
                                const std::optional<std::string>& passphrase) {
    return wrap(pki::PrivateKey::from_pem(pem, source, passphrase));
}

std::string PrivateKey::pem() const { return impl_->key.pem(); }
std::string PrivateKey::encrypted_pem(std::string_view passphrase) const {
    return impl_->key.encrypted_pem(passphrase);
}

KeySpec PrivateKey::spec() const {
    const pki::KeyRequest r = impl_->key.describe();
    return {static_cast<KeyAlgorithm>(r.algo), r.size};
}

Certificate::Certificate(std::shared_ptr<const detail::CertificateImpl> impl) : impl_(std::move(impl)) {}

Certificate Certificate::from_pem(std::string_view pem, std::string_view source) {
    return wrap(pki::Certificate::from_pem(pem, source));
}

std::vector<Certificate> Certificate::all_from_pem(std::string_view pem, std::string_view source) {
    std::vector<Certificate> out;
    for (auto& c : pki::Certificate::all_from_pem(pem, source)) out.push_back(wrap(std::move(c)));
    return out;
}

std::string Certificate::pem() const { return impl_->cert.pem(); }
std::string Certificate::common_name() const { return impl_->cert.common_name(); }
std::string Certificate::serial() const { return impl_->cert.serial_decimal(); }
bool Certificate::is_ca() const { return impl_->cert.is_ca(); }
Certificate::TimePoint Certificate::not_before() const { return impl_->cert.not_before(); }
Certificate::TimePoint Certificate::not_after() const { return impl_->cert.not_after(); }
std::vector<std::string> Certificate::dns_names() const { return impl_->cert.dns_names(); }
std::vector<std::string> Certificate::ip_addresses() const { return impl_->cert.ip_addresses(); }
bool Certificate::covers_host(std::string_view host) const { return impl_->cert.covers_host(host); }
bool Certificate::matches(const PrivateKey& key) const { return impl_->cert.matches(key.impl().key); }

namespace {
CertificateSpec leaf_spec(std::string common_name, std::vector<std::string> hosts, std::vector<Usage> usages) {
    CertificateSpec spec;
    spec.common_name = std::move(common_name);
    spec.hosts = std::move(hosts);
    spec.usages = std::move(usages);
    return spec;
}
}  // namespace

CertificateSpec CertificateSpec::peer(std::string common_name, std::vector<std::string> hosts) {
    return leaf_spec(std::move(common_name), std::move(hosts), {Usage::ServerAuth, Usage::ClientAuth});
}

CertificateSpec CertificateSpec::server(std::string common_name, std::vector<std::string> hosts) {
    return leaf_spec(std::move(common_name), std::move(hosts), {Usage::ServerAuth});
}

CertificateSpec CertificateSpec::client(std::string common_name) {
    return leaf_spec(std::move(common_name), {}, {Usage::ClientAuth});
}

CertificateAuthority CertificateAuthority::create(const CaSpec& spec) {
    pki::CertificateRequest request;
    request.cn = spec.common_name;
    request.key = to_pki(spec.key);
    request.names = organization_names(spec.organization);
    request.ca = pki::CaOptions{};
    request.ca->expiry = pki::format_duration(spec.validity);
    pki::validate(request.key);
    Warnings ignored;  // only about blank or repeated hosts, and a CA has none
    const pki::Issued issued = pki::init_ca(request, ignored);
    return {Certificate::from_pem(issued.cert, "new CA"), PrivateKey::from_pem(issued.key, "new CA key")};
}

CertificateAuthority::CertificateAuthority(Certificate certificate, PrivateKey key)
    : certificate_(std::move(certificate)), key_(std::move(key)) {
    const pki::Signer check(certificate_.impl().cert, key_.impl().key);  // throws KeyMismatch / CertNotCA
}

namespace {

pki::CertificateRequest request_for(const CertificateSpec& spec) {
    pki::CertificateRequest request;
    request.cn = spec.common_name;
    request.hosts = spec.hosts;
    request.key = to_pki(spec.key);
    request.names = organization_names(spec.organization);
    pki::validate(request.key);
    return request;
}

pki::Profile profile_for(const CertificateSpec& spec) {
    pki::Profile profile;
    profile.usages = usage_names(spec);
    profile.expiry = spec.validity;
    return profile;
}

Issued issue_with(const pki::Signer& signer, const CertificateSpec& spec) {
    const pki::CertificateRequest request = request_for(spec);
    pki::PrivateKey key = pki::PrivateKey::generate(request.key);
    Warnings ignored;  // blank or repeated hosts, dropped as cfssl does
    pki::Certificate cert = pki::issue_certificate(request, key, signer, profile_for(spec), ignored);
    return {wrap(std::move(cert)), wrap(std::move(key))};
}

}  // namespace

Issued CertificateAuthority::issue(const CertificateSpec& spec) const {
    return issue_with(pki::Signer(certificate_.impl().cert, key_.impl().key), spec);
}

std::vector<Issued> CertificateAuthority::issue_many(const std::vector<CertificateSpec>& specs,
                                                     unsigned threads) const {
    const pki::Signer signer(certificate_.impl().cert, key_.impl().key);
    std::vector<std::optional<Issued>> made(specs.size());
    parallel_for(specs.size(), threads, [&](size_t i) { made[i] = issue_with(signer, specs[i]); });
    std::vector<Issued> out;
    out.reserve(made.size());
    for (auto& m : made) out.push_back(std::move(*m));
    return out;
}

Verdict verify(const Certificate& leaf, const std::vector<Certificate>& roots, const VerifyOptions& options) {
    pki::VerifyRequest request{leaf.impl().cert, to_pki(options.intermediates), to_pki(roots), {}, {}, {}};
    request.purpose = static_cast<pki::Purpose>(options.purpose);
    request.host = options.host;
    request.at = options.at;
    const pki::VerifyResult by_openssl = pki::verify_with_openssl(request);
    const pki::VerifyResult by_botan = pki::verify_with_botan(request);
    return {by_openssl.ok && by_botan.ok, by_openssl.error, by_botan.error};
}

}  // namespace trellis
