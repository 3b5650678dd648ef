#include "pki/certificate.hpp"

#include <openssl/pem.h>

#include <algorithm>
#include <ctime>

#include "core/error.hpp"
#include "core/host.hpp"
#include "pki/openssl_util.hpp"

namespace trellis::pki {
namespace {

using namespace detail;

Clock::time_point to_time_point(const ASN1_TIME* t) {
    struct tm tm {};
    if (ASN1_TIME_to_tm(t, &tm) != 1) return Clock::time_point{};
    // Clock counts nanoseconds in 64 bits (years 1678-2262); X.509 reaches 9999: saturate, never overflow.
    const time_t secs = timegm(&tm);
    constexpr time_t kLimit = std::chrono::duration_cast<std::chrono::seconds>(Clock::duration::max()).count() - 1;
    if (secs >= kLimit) return Clock::time_point::max();
    if (secs <= -kLimit) return Clock::time_point::min();
    return Clock::from_time_t(secs);
}

bool has_pem_block(std::string_view pem, std::string_view label) {
    return pem.find("-----BEGIN " + std::string(label) + "-----") != std::string_view::npos;
}

template <class F>
void for_each_san(X509* cert, F&& f) {
    GenNamesPtr names(static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
    if (!names) return;
    for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) f(sk_GENERAL_NAME_value(names.get(), i));
}

}  // namespace

Certificate::Certificate(X509* cert) : cert_(cert, X509_free) {
    if (cert == nullptr) throw Error(Code::Internal, "Certificate constructed from a null certificate");
}

Certificate Certificate::from_pem(std::string_view pem, std::string_view source) {
    return all_from_pem(pem, source).front();
}

std::vector<Certificate> Certificate::all_from_pem(std::string_view pem, std::string_view source) {
    if (!has_pem_block(pem, "CERTIFICATE"))
        throw Error(Code::CertDecodeFailed,
                    located(source, "no PEM certificate found (expected \"-----BEGIN CERTIFICATE-----\")"));
    ERR_clear_error();
    auto bio = memory_bio(pem);
    std::vector<Certificate> out;
    while (X509Ptr cert{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)}) {
        out.reserve(out.size() + 1);  // so that nothing between release() and the handle can throw
        out.emplace_back(cert.release());
    }
    const unsigned long err = ERR_peek_last_error();
    // Running out of PEM blocks is how the loop ends; anything else is a broken certificate.
    if (ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE) ERR_clear_error();
    if (out.empty() || ERR_peek_error() != 0)
        throw Error(Code::CertParseFailed, located(source, "cannot parse the certificate: " + openssl_error()));
    return out;
}

std::string Certificate::pem() const {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (PEM_write_bio_X509(bio.get(), cert_.get()) != 1)
        throw Error(Code::Internal, "writing a certificate failed: " + openssl_error());
    return bio_contents(bio.get());
}

std::string Certificate::der() const {
    unsigned char* buf = nullptr;
    const int len = i2d_X509(cert_.get(), &buf);
    if (len < 0) throw Error(Code::Internal, "encoding a certificate failed: " + openssl_error());
    return take_buffer(buf, len);
}

namespace {
std::string entry_text(const X509_NAME* name, int i) {
    const ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
    unsigned char* utf8 = nullptr;
    const int len = ASN1_STRING_to_UTF8(&utf8, s);
    return take_buffer(utf8, len);
}
}  // namespace

std::string Certificate::common_name() const {
    const X509_NAME* name = X509_get_subject_name(cert_.get());
    const int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    return i < 0 ? std::string() : entry_text(name, i);
}

std::vector<std::string> Certificate::organizations() const {
    const X509_NAME* name = X509_get_subject_name(cert_.get());
    std::vector<std::string> out;
    for (int i = -1; (i = X509_NAME_get_index_by_NID(name, NID_organizationName, i)) >= 0;)
        out.push_back(entry_text(name, i));
    return out;
}

namespace {
std::string name_text(const X509_NAME* name) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    return bio_contents(bio.get());
}
}  // namespace

std::string Certificate::subject_text() const { return name_text(X509_get_subject_name(cert_.get())); }
std::string Certificate::issuer_text() const { return name_text(X509_get_issuer_name(cert_.get())); }

bool Certificate::is_ca() const { return (X509_get_extension_flags(cert_.get()) & EXFLAG_CA) != 0; }

bool Certificate::can_sign_certificates() const {
    if (!is_ca()) return false;
    const uint32_t flags = X509_get_extension_flags(cert_.get());
    return !(flags & EXFLAG_KUSAGE) || (X509_get_key_usage(cert_.get()) & KU_KEY_CERT_SIGN);
}

Clock::time_point Certificate::not_before() const { return to_time_point(X509_get0_notBefore(cert_.get())); }
Clock::time_point Certificate::not_after() const { return to_time_point(X509_get0_notAfter(cert_.get())); }

std::vector<std::string> Certificate::dns_names() const {
    std::vector<std::string> out;
    for_each_san(cert_.get(), [&](const GENERAL_NAME* gn) {
        if (gn->type != GEN_DNS) return;
        const ASN1_STRING* s = gn->d.dNSName;
        out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                         static_cast<size_t>(ASN1_STRING_length(s)));
    });
    return out;
}

std::vector<std::string> Certificate::ip_addresses() const {
    std::vector<std::string> out;
    for_each_san(cert_.get(), [&](const GENERAL_NAME* gn) {
        if (gn->type == GEN_IPADD) out.push_back(ip_text(gn->d.iPAddress));
    });
    return out;
}

bool Certificate::has_ext_key_usage(int nid) const {
    const EkuPtr eku(
        static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(cert_.get(), NID_ext_key_usage, nullptr, nullptr)));
    bool found = false;
    for (int i = 0; eku && i < sk_ASN1_OBJECT_num(eku.get()); ++i)
        found = found || OBJ_obj2nid(sk_ASN1_OBJECT_value(eku.get(), i)) == nid;
    return found;
}

bool Certificate::has_key_usage(int bit) const {
    if (!(X509_get_extension_flags(cert_.get()) & EXFLAG_KUSAGE)) return false;
    return (X509_get_key_usage(cert_.get()) & static_cast<uint32_t>(bit)) != 0;
}

bool Certificate::covers_host(std::string_view host) const {
    const std::string h(host);
    if (is_ip(h)) return X509_check_ip_asc(cert_.get(), h.c_str(), 0) == 1;
    // Never fall back to the subject CN: browsers and Go stopped doing that, and so do we.
    return X509_check_host(cert_.get(), h.data(), h.size(),
                           X509_CHECK_FLAG_NEVER_CHECK_SUBJECT | X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, nullptr) == 1;
}

bool Certificate::matches(const PrivateKey& key) const {
    const EVP_PKEY* pub = X509_get0_pubkey(cert_.get());
    return pub != nullptr && EVP_PKEY_eq(pub, key.get()) == 1;
}

std::string Certificate::serial_decimal() const {
    BnPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert_.get()), nullptr));
    if (!bn) return {};
    const OpensslBuffer<char> dec(BN_bn2dec(bn.get()));
    return dec ? std::string(dec.get()) : std::string();
}

Csr::Csr(X509_REQ* req) : req_(req, X509_REQ_free) {
    if (req == nullptr) throw Error(Code::Internal, "Csr constructed from a null request");
}

Csr Csr::from_pem(std::string_view pem, std::string_view source) {
    if (!has_pem_block(pem, "CERTIFICATE REQUEST") && !has_pem_block(pem, "NEW CERTIFICATE REQUEST"))
        throw Error(
            Code::CsrParseFailed,
            located(source, "no PEM certificate request found (expected \"-----BEGIN CERTIFICATE REQUEST-----\")"));
    ERR_clear_error();
    auto bio = memory_bio(pem);
    X509_REQ* req = PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr);
    if (req == nullptr)
        throw Error(Code::CsrParseFailed, located(source, "cannot parse the certificate request: " + openssl_error()));
    Csr csr(req);
    // Every user reads the key (certinfo, sign); one that does not decode is a bad request, not a crash.
    if (X509_REQ_get0_pubkey(req) == nullptr)
        throw Error(Code::CsrParseFailed,
                    located(source, "the certificate request's public key does not decode: " + openssl_error()));
    return csr;
}

std::string Csr::pem() const {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (PEM_write_bio_X509_REQ(bio.get(), req_.get()) != 1)
        throw Error(Code::Internal, "writing a certificate request failed: " + openssl_error());
    return bio_contents(bio.get());
}

void Csr::verify_self_signature(std::string_view source) const {
    EVP_PKEY* pub = X509_REQ_get0_pubkey(req_.get());
    ERR_clear_error();
    if (pub == nullptr || X509_REQ_verify(req_.get(), pub) != 1)
        throw Error(Code::CsrSignatureInvalid,
                    located(source, "the certificate request is not signed by its own key (" + openssl_error() + ")"));
}

namespace {

Owned<X509_CRL, X509_CRL_free> parse_crl(std::string_view data, std::string_view source) {
    BioPtr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
    X509_CRL* crl = PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr);
    if (crl == nullptr) {
        const auto* p = reinterpret_cast<const unsigned char*>(data.data());
        crl = d2i_X509_CRL(nullptr, &p, static_cast<long>(data.size()));
    }
    ERR_clear_error();
    if (crl == nullptr) throw Error(Code::CertParseFailed, located(source, "not a CRL (PEM or DER)"));
    return Owned<X509_CRL, X509_CRL_free>(crl);
}

}  // namespace

CrlInfo read_crl(std::string_view data, std::string_view source, const Certificate* issuer) {
    const auto crl = parse_crl(data, source);
    CrlInfo info;
    info.last_update = to_time_point(X509_CRL_get0_lastUpdate(crl.get()));
    if (const ASN1_TIME* next = X509_CRL_get0_nextUpdate(crl.get())) info.next_update = to_time_point(next);
    const STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl.get());
    for (int i = 0; i < sk_X509_REVOKED_num(revoked); ++i) {
        BnPtr bn(ASN1_INTEGER_to_BN(X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revoked, i)), nullptr));
        const OpensslBuffer<char> dec(bn ? BN_bn2dec(bn.get()) : nullptr);
        if (dec) info.serials.emplace_back(dec.get());
    }
    std::sort(info.serials.begin(), info.serials.end());
    if (issuer != nullptr)
        info.signed_by_issuer =
            X509_CRL_verify(crl.get(), X509_get0_pubkey(issuer->get())) == 1 &&
            X509_NAME_cmp(X509_CRL_get_issuer(crl.get()), X509_get_subject_name(issuer->get())) == 0;
    ERR_clear_error();
    return info;
}

std::string crl_pem(std::string_view base64_der) {
    std::string out = "-----BEGIN X509 CRL-----\n";
    for (size_t at = 0; at < base64_der.size(); at += 64) out += std::string(base64_der.substr(at, 64)) + "\n";
    return out + "-----END X509 CRL-----\n";
}

}  // namespace trellis::pki
