#include "pki/issue.hpp"

#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <array>

#include <nlohmann/json.hpp>

#include "core/files.hpp"
#include "core/text.hpp"
#include "pki/openssl_util.hpp"

namespace trellis::pki {
namespace {

using namespace detail;

constexpr Duration kDefaultCaExpiry = std::chrono::hours(43800);
constexpr Duration kDefaultBackdate = std::chrono::minutes(5);

// OpenSSL's KU_* masks (as X509_get_key_usage reports them) and their bit in the DER KeyUsage BIT STRING.
constexpr std::array<std::pair<int, int>, 9> kKeyUsageBits{{
    {KU_DIGITAL_SIGNATURE, 0},
    {KU_NON_REPUDIATION, 1},
    {KU_KEY_ENCIPHERMENT, 2},
    {KU_DATA_ENCIPHERMENT, 3},
    {KU_KEY_AGREEMENT, 4},
    {KU_KEY_CERT_SIGN, 5},
    {KU_CRL_SIGN, 6},
    {KU_ENCIPHER_ONLY, 7},
    {KU_DECIPHER_ONLY, 8},
}};

// The subject's order follows Go's pkix.Name.ToRDNSequence (C, ST, L, O, OU, CN, serialNumber, then
// emailAddress), so certgen's names read like cfssl's; several values of one type share one RDN as in Go.
struct SubjectField {
    int nid;
    std::string Name::*field;
};
constexpr std::array<SubjectField, 5> kSubjectFields{{
    {NID_countryName, &Name::C},
    {NID_stateOrProvinceName, &Name::ST},
    {NID_localityName, &Name::L},
    {NID_organizationName, &Name::O},
    {NID_organizationalUnitName, &Name::OU},
}};

[[noreturn]] void sign_failed(std::string_view what) {
    throw Error(Code::CertSignFailed, std::string(what) + ": " + openssl_error());
}

void add_entry(X509_NAME* name, int nid, std::string_view value, int set) {
    if (X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(value.data()),
                                   static_cast<int>(value.size()), -1, set) != 1)
        throw Error(Code::CsrInvalid, "subject value \"" + std::string(value) + "\" for " + OBJ_nid2sn(nid) +
                                          " is not allowed: " + openssl_error());
}

NamePtr make_subject(const CertificateRequest& req, const std::string& cn) {
    NamePtr name(X509_NAME_new());
    for (const auto& f : kSubjectFields) {
        bool first = true;
        for (const auto& n : req.names) {
            const std::string& v = n.*f.field;
            if (v.empty()) continue;
            add_entry(name.get(), f.nid, v, first ? 0 : -1);
            first = false;
        }
    }
    if (!cn.empty()) add_entry(name.get(), NID_commonName, cn, 0);
    if (!req.serialnumber.empty()) add_entry(name.get(), NID_serialNumber, req.serialnumber, 0);
    for (const auto& n : req.names)
        if (!n.E.empty()) add_entry(name.get(), NID_pkcs9_emailAddress, n.E, 0);
    return name;
}

std::vector<std::string> values_of(const X509_NAME* name, int nid) {
    std::vector<std::string> out;
    for (int i = -1; (i = X509_NAME_get_index_by_NID(name, nid, i)) >= 0;) {
        unsigned char* utf8 = nullptr;
        const int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
        if (n < 0) continue;
        out.emplace_back(reinterpret_cast<const char*>(utf8), static_cast<size_t>(n));
        OPENSSL_free(utf8);
    }
    return out;
}

// The request's subject with `o` applied field by field, as cfssl's PopulateSubjectFromCSR does:
// what the override gives replaces, what it leaves empty keeps the request's values. Written in
// the same RDN order as make_subject.
X509_NAME* override_subject(const X509_NAME* requested, const Overrides& o) {
    NamePtr name(X509_NAME_new());
    auto add_all = [&](int nid, const std::vector<std::string>& values) {
        bool first = true;
        for (const auto& v : values) {
            add_entry(name.get(), nid, v, first ? 0 : -1);
            first = false;
        }
    };
    auto given = [&](std::string Name::*field) {
        std::vector<std::string> out;
        if (o.names)
            for (const auto& n : *o.names)
                if (!(n.*field).empty()) out.push_back(n.*field);
        return out;
    };
    for (const auto& f : kSubjectFields) {
        const auto values = given(f.field);
        add_all(f.nid, values.empty() ? values_of(requested, f.nid) : values);
    }
    if (o.cn) {
        if (!o.cn->empty()) add_entry(name.get(), NID_commonName, *o.cn, 0);
    } else {
        add_all(NID_commonName, values_of(requested, NID_commonName));
    }
    const bool serial_given = o.serialnumber && !o.serialnumber->empty();
    add_all(NID_serialNumber,
            serial_given ? std::vector<std::string>{*o.serialnumber} : values_of(requested, NID_serialNumber));
    const auto emails = given(&Name::E);
    for (const auto& e : emails.empty() ? values_of(requested, NID_pkcs9_emailAddress) : emails)
        add_entry(name.get(), NID_pkcs9_emailAddress, e, 0);
    return name.release();
}

void push_name(GENERAL_NAMES* names, int type, std::string_view value) {
    GENERAL_NAME* gn = GENERAL_NAME_new();
    if (type == GEN_IPADD) {
        ASN1_OCTET_STRING* ip = a2i_IPADDRESS(std::string(value).c_str());
        if (ip == nullptr) {
            GENERAL_NAME_free(gn);
            throw Error(Code::CsrBadHost, "\"" + std::string(value) + "\" is not an IP address");
        }
        GENERAL_NAME_set0_value(gn, GEN_IPADD, ip);
    } else {
        ASN1_IA5STRING* s = ASN1_IA5STRING_new();
        ASN1_STRING_set(s, value.data(), static_cast<int>(value.size()));
        GENERAL_NAME_set0_value(gn, type, s);
    }
    sk_GENERAL_NAME_push(names, gn);
}

GenNamesPtr make_general_names(const SubjectAltNames& sans) {
    GenNamesPtr names(sk_GENERAL_NAME_new_null());
    for (const auto& d : sans.dns) push_name(names.get(), GEN_DNS, d);
    for (const auto& e : sans.emails) push_name(names.get(), GEN_EMAIL, e);
    for (const auto& ip : sans.ips) push_name(names.get(), GEN_IPADD, ip);
    for (const auto& u : sans.uris) push_name(names.get(), GEN_URI, u);
    return names;
}

// Key identifier per RFC 7093 section 2 method 1: the leftmost 160 bits of the SHA-256 hash of the
// subjectPublicKey BIT STRING. Same length as the RFC 5280 SHA-1 method (and cfssl's), without SHA-1.
std::array<unsigned char, 20> key_identifier(X509_PUBKEY* pub) {
    const unsigned char* bits = nullptr;
    int len = 0;
    if (X509_PUBKEY_get0_param(nullptr, &bits, &len, nullptr, pub) != 1) sign_failed("reading a public key failed");
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(bits, static_cast<size_t>(len), digest);
    std::array<unsigned char, 20> out;
    std::copy_n(digest, out.size(), out.begin());
    return out;
}

template <class T>
void add_ext(X509* x, int nid, T* value, bool critical, void (*free_fn)(T*)) {
    const int ok = X509_add1_ext_i2d(x, nid, value, critical ? 1 : 0, X509V3_ADD_DEFAULT);
    free_fn(value);
    if (ok != 1) sign_failed(std::string("adding extension ") + OBJ_nid2sn(nid) + " failed");
}

// A 159-bit positive random serial: at most 20 octets in DER as RFC 5280 requires, like cfssl's.
void set_random_serial(X509* x) {
    unsigned char bytes[20];
    if (RAND_bytes(bytes, sizeof bytes) != 1) sign_failed("drawing a random serial failed");
    bytes[0] &= 0x7f;
    bytes[0] |= bytes[0] == 0 ? 0x01 : 0;  // keep it large and non-zero
    BnPtr bn(BN_bin2bn(bytes, sizeof bytes, nullptr));
    if (!bn || BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(x)) == nullptr)
        sign_failed("setting the serial failed");
}

// Everything that goes into one certificate, whichever way it was requested.
struct CertSpec {
    const X509_NAME* subject = nullptr;
    EVP_PKEY* public_key = nullptr;       // its type; the key itself when spki is nullptr
    X509_PUBKEY* spki = nullptr;          // copied into the certificate as it is; nullptr: take public_key
    const Certificate* issuer = nullptr;  // nullptr: self-signed
    const PrivateKey* signing_key = nullptr;
    bool is_ca = false;
    int max_path_len = -1;  // -1: no pathLenConstraint
    int key_usage = 0;      // KU_* masks
    std::vector<int> ext_key_usage{};
    const SubjectAltNames* sans = nullptr;
    Time not_before{}, not_after{};
    const Profile* profile = nullptr;
};

// Copies an already encoded SubjectPublicKeyInfo. X509_set_pubkey would re-encode the key through
// OpenSSL 3's encoder lookup, which costs ~170 us per call for provider keys: more than signing.
void copy_public_key(X509_PUBKEY* from, X509_PUBKEY* to) {
    ASN1_OBJECT* algorithm = nullptr;
    const unsigned char* bits = nullptr;
    int len = 0;
    X509_ALGOR* alg = nullptr;
    if (X509_PUBKEY_get0_param(&algorithm, &bits, &len, &alg, from) != 1) sign_failed("reading the public key failed");
    const ASN1_OBJECT* alg_obj = nullptr;
    int ptype = V_ASN1_UNDEF;
    const void* pval = nullptr;
    X509_ALGOR_get0(&alg_obj, &ptype, &pval, alg);
    void* param = nullptr;
    if (ptype == V_ASN1_OBJECT)
        param = OBJ_dup(static_cast<const ASN1_OBJECT*>(pval));
    else if (ptype == V_ASN1_SEQUENCE)
        param = ASN1_STRING_dup(static_cast<const ASN1_STRING*>(pval));
    else if (ptype != V_ASN1_NULL && ptype != V_ASN1_UNDEF)
        sign_failed("unsupported public key parameters");
    auto* copy = static_cast<unsigned char*>(OPENSSL_memdup(bits, static_cast<size_t>(len)));
    if (X509_PUBKEY_set0_param(to, OBJ_dup(algorithm), ptype, param, copy, len) != 1)
        sign_failed("setting the public key failed");
}

void set_time(ASN1_TIME* field, Time t) {
    // ASN1_TIME_set picks UTCTime for 1950-2049 and GeneralizedTime otherwise, as RFC 5280 wants.
    if (ASN1_TIME_set(field, static_cast<time_t>(t.time_since_epoch().count())) == nullptr)
        sign_failed("setting the validity failed");
}

// A certificate time in whole seconds (any year X.509 holds; system_clock would overflow past 2262).
Time time_of(const ASN1_TIME* t) {
    struct tm tm {};
    if (ASN1_TIME_to_tm(t, &tm) != 1) return Time{};
    namespace chr = std::chrono;
    const chr::year_month_day date{chr::year{tm.tm_year + 1900}, chr::month{static_cast<unsigned>(tm.tm_mon + 1)},
                                   chr::day{static_cast<unsigned>(tm.tm_mday)}};
    return chr::sys_days{date} + chr::hours(tm.tm_hour) + chr::minutes(tm.tm_min) + chr::seconds(tm.tm_sec);
}

Time now_seconds() { return std::chrono::floor<std::chrono::seconds>(Clock::now()); }

// keyUsage, extKeyUsage and basicConstraints, as the spec asks.
void add_usage_extensions(X509* x, const CertSpec& spec) {
    if (spec.key_usage != 0) {
        ASN1_BIT_STRING* ku = ASN1_BIT_STRING_new();
        for (const auto& [mask, bit] : kKeyUsageBits)
            if (spec.key_usage & mask) ASN1_BIT_STRING_set_bit(ku, bit, 1);
        add_ext(x, NID_key_usage, ku, true, ASN1_BIT_STRING_free);
    }
    if (!spec.ext_key_usage.empty()) {
        EXTENDED_KEY_USAGE* eku = sk_ASN1_OBJECT_new_null();
        for (int nid : spec.ext_key_usage) sk_ASN1_OBJECT_push(eku, OBJ_nid2obj(nid));
        add_ext(x, NID_ext_key_usage, eku, false, EXTENDED_KEY_USAGE_free);
    }
    BASIC_CONSTRAINTS* bc = BASIC_CONSTRAINTS_new();
    bc->ca = spec.is_ca ? 0xff : 0;
    if (spec.is_ca && spec.max_path_len >= 0) {
        bc->pathlen = ASN1_INTEGER_new();
        ASN1_INTEGER_set(bc->pathlen, spec.max_path_len);
    }
    add_ext(x, NID_basic_constraints, bc, true, BASIC_CONSTRAINTS_free);
}

// subjectKeyIdentifier from the certificate's key; authorityKeyIdentifier from the issuer's SKI (or
// its key when it has none), or the certificate's own SKI when self-signed.
void add_key_identifiers(X509* x, const CertSpec& spec) {
    const auto ski = key_identifier(X509_get_X509_PUBKEY(x));
    ASN1_OCTET_STRING* ski_os = ASN1_OCTET_STRING_new();
    ASN1_OCTET_STRING_set(ski_os, ski.data(), static_cast<int>(ski.size()));
    add_ext(x, NID_subject_key_identifier, ski_os, false, ASN1_OCTET_STRING_free);

    AUTHORITY_KEYID* aki = AUTHORITY_KEYID_new();
    aki->keyid = ASN1_OCTET_STRING_new();
    if (spec.issuer == nullptr) {
        ASN1_OCTET_STRING_set(aki->keyid, ski.data(), static_cast<int>(ski.size()));
    } else if (const ASN1_OCTET_STRING* issuer_ski = X509_get0_subject_key_id(spec.issuer->get())) {
        ASN1_OCTET_STRING_set(aki->keyid, ASN1_STRING_get0_data(issuer_ski), ASN1_STRING_length(issuer_ski));
    } else {
        const auto id = key_identifier(X509_get_X509_PUBKEY(spec.issuer->get()));
        ASN1_OCTET_STRING_set(aki->keyid, id.data(), static_cast<int>(id.size()));
    }
    add_ext(x, NID_authority_key_identifier, aki, false, AUTHORITY_KEYID_free);
}

// authorityInfoAccess: the profile's OCSP and issuer URLs, when it has any.
void add_info_access(X509* x, const Profile& p) {
    if (p.ocsp_url.empty() && p.issuer_urls.empty()) return;
    AUTHORITY_INFO_ACCESS* aia = sk_ACCESS_DESCRIPTION_new_null();
    const auto add_access = [&](int method, const std::string& url) {
        ACCESS_DESCRIPTION* ad = ACCESS_DESCRIPTION_new();
        ad->method = OBJ_nid2obj(method);
        GENERAL_NAME_free(ad->location);
        GENERAL_NAMES* tmp = sk_GENERAL_NAME_new_null();
        push_name(tmp, GEN_URI, url);
        ad->location = sk_GENERAL_NAME_pop(tmp);
        sk_GENERAL_NAME_free(tmp);
        sk_ACCESS_DESCRIPTION_push(aia, ad);
    };
    if (!p.ocsp_url.empty()) add_access(NID_ad_OCSP, p.ocsp_url);
    for (const auto& url : p.issuer_urls) add_access(NID_ad_ca_issuers, url);
    add_ext(x, NID_info_access, aia, false, AUTHORITY_INFO_ACCESS_free);
}

// cRLDistributionPoints: the profile's CRL URL, when it has one.
void add_crl_distribution_point(X509* x, const Profile& p) {
    if (p.crl_url.empty()) return;
    CRL_DIST_POINTS* dps = sk_DIST_POINT_new_null();
    DIST_POINT* dp = DIST_POINT_new();
    dp->distpoint = DIST_POINT_NAME_new();
    dp->distpoint->type = 0;
    dp->distpoint->name.fullname = sk_GENERAL_NAME_new_null();
    push_name(dp->distpoint->name.fullname, GEN_URI, p.crl_url);
    sk_DIST_POINT_push(dps, dp);
    add_ext(x, NID_crl_distribution_points, dps, false, CRL_DIST_POINTS_free);
}

X509Ptr build_certificate(const CertSpec& spec) {
    X509Ptr x(X509_new());
    if (!x) sign_failed("allocating a certificate failed");
    X509_set_version(x.get(), X509_VERSION_3);
    set_random_serial(x.get());
    X509_set_subject_name(x.get(), spec.subject);
    X509_set_issuer_name(x.get(), spec.issuer ? X509_get_subject_name(spec.issuer->get()) : spec.subject);
    set_time(X509_getm_notBefore(x.get()), spec.not_before);
    set_time(X509_getm_notAfter(x.get()), spec.not_after);
    if (spec.spki != nullptr) {
        copy_public_key(spec.spki, X509_get_X509_PUBKEY(x.get()));
    } else if (X509_set_pubkey(x.get(), spec.public_key) != 1) {
        sign_failed("setting the public key failed");
    }

    // Extensions in Go's order: keyUsage, extKeyUsage, basicConstraints, SKI, AKI, AIA, SAN, CRL DP.
    add_usage_extensions(x.get(), spec);
    add_key_identifiers(x.get(), spec);
    add_info_access(x.get(), *spec.profile);
    if (!spec.sans->empty()) {
        // RFC 5280 4.2.1.6: the SAN extension is critical when the subject is empty.
        const bool critical = X509_NAME_entry_count(spec.subject) == 0;
        add_ext(x.get(), NID_subject_alt_name, make_general_names(*spec.sans).release(), critical, GENERAL_NAMES_free);
    }
    add_crl_distribution_point(x.get(), *spec.profile);

    if (X509_sign(x.get(), spec.signing_key->get(), spec.signing_key->signature_digest()) <= 0)
        sign_failed("signing the certificate failed");
    return x;
}

std::string pem_of(X509Ptr cert) { return Certificate(cert.release()).pem(); }

ReqPtr build_csr(const X509_NAME* subject, const PrivateKey& key, const SubjectAltNames& sans,
                 const std::optional<CaOptions>& ca) {
    ReqPtr req(X509_REQ_new());
    X509_REQ_set_version(req.get(), 0);
    X509_REQ_set_subject_name(req.get(), subject);
    if (X509_REQ_set_pubkey(req.get(), key.get()) != 1) sign_failed("setting the request's public key failed");
    STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
    if (!sans.empty()) {
        GenNamesPtr names = make_general_names(sans);
        sk_X509_EXTENSION_push(exts, X509V3_EXT_i2d(NID_subject_alt_name, 0, names.get()));
    }
    if (ca) {
        // cfssl asks for CA:TRUE in a CA's request as well (csr.appendCAInfoToCSR).
        BASIC_CONSTRAINTS* bc = BASIC_CONSTRAINTS_new();
        bc->ca = 0xff;
        if (ca->pathlen > 0 || ca->pathlenzero) {
            bc->pathlen = ASN1_INTEGER_new();
            ASN1_INTEGER_set(bc->pathlen, ca->pathlen);
        }
        sk_X509_EXTENSION_push(exts, X509V3_EXT_i2d(NID_basic_constraints, 1, bc));
        BASIC_CONSTRAINTS_free(bc);
    }
    if (sk_X509_EXTENSION_num(exts) > 0) X509_REQ_add_extensions(req.get(), exts);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    if (X509_REQ_sign(req.get(), key.get(), key.signature_digest()) <= 0) sign_failed("signing the request failed");
    return req;
}

std::string csr_pem(X509_REQ* req) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (PEM_write_bio_X509_REQ(bio.get(), req) != 1) sign_failed("writing the request failed");
    return bio_contents(bio.get());
}

// Go's time.Now().Round(time.Minute): half a minute and more rounds up.
Time round_to_minute(Time t) {
    const auto secs = t.time_since_epoch().count();
    return Time(std::chrono::seconds(((secs + 30) / 60) * 60));
}

void set_validity(CertSpec& spec, const Profile& profile) {
    spec.not_before = profile.not_before.value_or(round_to_minute(now_seconds()) - profile.backdate);
    spec.not_after = profile.not_after.value_or(spec.not_before + profile.expiry);
    if (spec.not_after > kLatestTime)
        throw Error(Code::PolicyInvalid, "the certificate would end on " + format_rfc3339(spec.not_after) +
                                             ", after 9999-12-31, the last date X.509 can hold: shorten the expiry");
}

bool is_rsa(EVP_PKEY* key) { return EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA; }

// Key usages of a leaf under `profile`; keyEncipherment only means something for RSA key transport.
int leaf_key_usage(const Profile& profile, EVP_PKEY* key, Warnings& warnings) {
    int ku = key_usage_bits(profile.usages);
    if ((ku & KU_KEY_ENCIPHERMENT) && !is_rsa(key)) {
        ku &= ~KU_KEY_ENCIPHERMENT;
        warnings.push_back("\"key encipherment\" dropped: it applies to RSA keys only, this key is " +
                           std::string(OBJ_nid2sn(EVP_PKEY_get_base_id(key))));
    }
    return ku;
}

// cfssl's name_whitelist: the CN, DNS and email SANs must each match; IP addresses and URIs are not
// names cfssl checks.
void check_whitelist(const Profile& profile, const std::string& cn, const SubjectAltNames& sans) {
    if (!profile.name_whitelist) return;
    const auto check = [&](const std::string& name, std::string_view what) {
        if (!whitelist_allows(profile, name))
            throw Error(Code::PolicyNameNotAllowed, std::string(what) + " \"" + excerpt(name) +
                                                        "\" does not match the profile's name_whitelist \"" +
                                                        excerpt(*profile.name_whitelist) + "\"");
    };
    if (!cn.empty()) check(cn, "common name");
    for (const auto& n : sans.dns) check(n, "host");
    for (const auto& n : sans.emails) check(n, "email");
}

// cfssl drops DNS names and email addresses from CA certificates: a CA names no host.
SubjectAltNames ca_sans(const SubjectAltNames& sans, Warnings& warnings) {
    SubjectAltNames out = sans;
    if (out.dns.empty() && out.emails.empty()) return out;
    warnings.push_back("DNS names and email addresses are left out of a CA certificate, as cfssl does");
    out.dns.clear();
    out.emails.clear();
    return out;
}

// A certificate must name something (RFC 5280 4.1.2.6): a subject or, failing that, a SAN.
void require_identity(const X509_NAME* subject, const SubjectAltNames& sans) {
    if (X509_NAME_entry_count(subject) == 0 && sans.empty())
        throw Error(Code::CertBadRequest,
                    "the request has no subject and no hosts, so the certificate would name nothing: give a \"CN\" or "
                    "\"hosts\"");
}

// Signing with a CA outside its validity makes certificates that fail verification at once.
void check_issuer_valid(const Certificate& ca) {
    const Time now = now_seconds(), begins = time_of(X509_get0_notBefore(ca.get())),
               ends = time_of(X509_get0_notAfter(ca.get()));
    const std::string who = "the CA certificate \"" + excerpt(ca.common_name()) + "\"";
    if (ends < now)
        throw Error(Code::CertExpired, who + " expired on " + format_rfc3339(ends) +
                                           "; renew the CA first: what it signs now fails verification");
    if (begins > now)
        throw Error(Code::CertExpired, who + " is not valid until " + format_rfc3339(begins) +
                                           "; check the clock, or wait: what it signs now fails verification");
}

// cfssl's CA rules: a CA certificate needs a CA profile, and the issuer's pathLen must leave room.
void check_ca_allowed(const Certificate& ca, bool requested_ca, const Profile& profile, int path_len) {
    if (requested_ca && !profile.is_ca)
        throw Error(Code::PolicyCaNotAllowed,
                    "the request asks for a CA certificate (CA:TRUE) but the profile does not allow CAs (set "
                    "ca_constraint.is_ca in a profile meant for intermediates)");
    if (!requested_ca && !profile.is_ca) return;
    const long issuer_len = X509_get_pathlen(ca.get());
    if (issuer_len == 0)
        throw Error(Code::PolicyCaNotAllowed, "the issuer \"" + excerpt(ca.common_name()) +
                                                  "\" has pathLen 0: it may sign no CA certificate below it");
    if (issuer_len > 0 && path_len >= issuer_len)
        throw Error(Code::PolicyCaNotAllowed, "the new CA's pathLen " + std::to_string(path_len) +
                                                  " is not below its issuer's (" + std::to_string(issuer_len) + ")");
}

void warn_outlives(const CertSpec& spec, Warnings& warnings) {
    // A day of slack: the guide gives leaves the CA's own 43800h, so they outlive it by the minutes
    // between the two commands, which matters to nobody.
    if (spec.issuer == nullptr ||
        spec.not_after <= time_of(X509_get0_notAfter(spec.issuer->get())) + std::chrono::hours(24))
        return;
    warnings.push_back("the certificate is valid beyond its CA's expiry; clients will reject it after the CA expires");
}

std::string common_name_of(const X509_NAME* name) {
    const int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    if (i < 0) return {};
    unsigned char* utf8 = nullptr;
    const int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
    if (len < 0) return {};
    std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
    OPENSSL_free(utf8);
    return out;
}

X509Ptr sign_leaf(const X509_NAME* subject, EVP_PKEY* public_key, X509_PUBKEY* spki, const SubjectAltNames& asked,
                  const Signer& ca, const Profile& profile, Warnings& warnings, bool requested_ca = false) {
    check_issuer_valid(ca.certificate());
    CertSpec spec{subject, public_key, spki, &ca.certificate(), &ca.key()};
    spec.is_ca = profile.is_ca;
    if (profile.is_ca)
        spec.max_path_len = profile.max_path_len > 0 ? profile.max_path_len : profile.max_path_len_zero ? 0 : -1;
    check_ca_allowed(ca.certificate(), requested_ca, profile, spec.max_path_len);
    const SubjectAltNames sans = spec.is_ca ? ca_sans(asked, warnings) : asked;
    require_identity(subject, sans);
    check_whitelist(profile, common_name_of(subject), sans);
    spec.key_usage = leaf_key_usage(profile, public_key, warnings);
    spec.ext_key_usage = ext_key_usage_nids(profile.usages);
    spec.sans = &sans;
    spec.profile = &profile;
    set_validity(spec, profile);
    warn_outlives(spec, warnings);
    return build_certificate(spec);
}

// cfssl refuses CSRs signed with hashes Go no longer verifies (MD5); we refuse SHA-1 as well, as
// docs/certgen.md says: a collision-prone hash proves little about who holds the key.
void refuse_weak_signature(const Csr& csr, std::string_view source) {
    int digest = NID_undef, pkey = NID_undef;
    if (OBJ_find_sigid_algs(X509_REQ_get_signature_nid(csr.get()), &digest, &pkey) != 1) return;
    for (const int weak : {NID_md5, NID_md4, NID_md2, NID_sha1, NID_md5_sha1})
        if (digest == weak)
            throw Error(Code::CsrWeakSignature,
                        located(source, std::string("the certificate request is signed with ") + OBJ_nid2sn(digest) +
                                            "; sign it again with SHA-256 or better (e.g. openssl req -sha256)"));
}

// The request's key must meet the same floor as keys we generate (no RSA under 2048, known curves).
void check_request_key(EVP_PKEY* pub, std::string_view source) {
    EVP_PKEY_up_ref(pub);
    const KeyRequest kind = PrivateKey(pub).describe();
    if (kind.algo == KeyAlgorithm::Rsa && kind.size < 2048)
        throw Error(Code::KeyUnsupported, located(source, "the request's rsa key has " + std::to_string(kind.size) +
                                                              " bits; at least 2048 are required"));
    if (kind.algo == KeyAlgorithm::Ecdsa && kind.size != 256 && kind.size != 384 && kind.size != 521)
        throw Error(Code::KeyUnsupported, located(source, "the request's ecdsa curve (" + std::to_string(kind.size) +
                                                              " bits) is not allowed (256, 384, 521)"));
}

// What a PEM CSR asks for in its extensions: SANs as host strings, and CA:TRUE.
struct RequestedExtensions {
    std::vector<std::string> hosts;
    bool is_ca = false;
};

void add_hosts(const GENERAL_NAMES* names, std::vector<std::string>& hosts) {
    for (int j = 0; names && j < sk_GENERAL_NAME_num(names); ++j) {
        const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, j);
        if (gn->type == GEN_DNS || gn->type == GEN_EMAIL || gn->type == GEN_URI) {
            const ASN1_STRING* s = gn->d.ia5;
            hosts.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), ASN1_STRING_length(s));
        } else if (gn->type == GEN_IPADD) {
            hosts.push_back(detail::ip_text(gn->d.ip));
        }
    }
}

RequestedExtensions requested_extensions(const Csr& csr, std::string_view source) {
    RequestedExtensions out;
    ExtensionsPtr exts(X509_REQ_get_extensions(csr.get()));
    for (int i = 0; i < sk_X509_EXTENSION_num(exts.get()); ++i) {
        X509_EXTENSION* ext = sk_X509_EXTENSION_value(exts.get(), i);
        const int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
        if (nid == NID_subject_alt_name) {
            GenNamesPtr names(static_cast<GENERAL_NAMES*>(X509V3_EXT_d2i(ext)));
            add_hosts(names.get(), out.hosts);
        } else if (nid == NID_basic_constraints) {
            Owned<BASIC_CONSTRAINTS, BASIC_CONSTRAINTS_free> bc(static_cast<BASIC_CONSTRAINTS*>(X509V3_EXT_d2i(ext)));
            if (!bc) throw Error(Code::CsrParseFailed, located(source, "the request's basicConstraints do not decode"));
            out.is_ca = bc->ca != 0;
        }
    }
    return out;
}

std::string hosts_source(const Overrides& overrides) { return overrides.hosts ? "-hostname" : "hosts"; }

}  // namespace

std::string Issued::to_json() const {
    nlohmann::json out = nlohmann::json::object();
    if (!cert.empty()) out["cert"] = cert;
    if (!csr.empty()) out["csr"] = csr;
    if (!key.empty()) out["key"] = key;
    return out.dump();
}

Signer::Signer(Certificate cert, PrivateKey key) : cert_(std::move(cert)), key_(std::move(key)) {
    if (!cert_.matches(key_))
        throw Error(Code::KeyMismatch, "the CA key does not belong to the CA certificate \"" + cert_.common_name() +
                                           "\" (give the key made together with it)");
    if (!cert_.can_sign_certificates())
        throw Error(Code::CertNotCA, "certificate \"" + cert_.common_name() +
                                         "\" is not a CA (needs basicConstraints CA:TRUE and keyUsage certSign)");
}

Signer Signer::load(std::string_view cert_source, std::string_view key_source,
                    const std::optional<std::string>& passphrase) {
    Certificate cert = Certificate::from_pem(read_source(cert_source), cert_source);
    PrivateKey key = PrivateKey::from_pem(read_source(key_source), key_source, passphrase);
    try {
        return Signer(std::move(cert), std::move(key));
    } catch (const Error& e) {
        throw Error(e.code(), located(std::string(cert_source) + ", " + std::string(key_source), e.what()));
    }
}

namespace {

// init_ca's work. The CSR is made only for init_ca (cfssl's initca returns one); without it the
// certificate takes the key itself, so the object is usable as it is, as issue_certificate's are.
struct MadeCa {
    Issued issued;
    PrivateKey key;
    X509Ptr cert;
};

MadeCa new_ca(const CertificateRequest& request, bool with_csr, Warnings& warnings) {
    const SubjectAltNames sans = classify_hosts(request.hosts, "hosts", warnings);
    const NamePtr subject = make_subject(request, request.cn);
    const SubjectAltNames cert_sans = ca_sans(sans, warnings);  // the CSR keeps what was asked
    require_identity(subject.get(), cert_sans);
    PrivateKey key = PrivateKey::generate(request.key);
    // cfssl's initca.CAPolicy(): cert sign + crl sign, 5 years unless the request's "ca" says otherwise.
    Profile profile;
    profile.usages = {"cert sign", "crl sign"};
    profile.expiry = kDefaultCaExpiry;
    profile.backdate = kDefaultBackdate;
    profile.is_ca = true;
    const CaOptions ca = request.ca.value_or(CaOptions{});
    if (!ca.expiry.empty()) profile.expiry = parse_duration(ca.expiry, "ca.expiry");
    if (!ca.backdate.empty()) profile.backdate = parse_duration(ca.backdate, "ca.backdate");
    const ReqPtr csr = with_csr ? build_csr(subject.get(), key, sans, CaOptions(ca)) : nullptr;
    CertSpec spec{subject.get(), key.get(), csr ? X509_REQ_get_X509_PUBKEY(csr.get()) : nullptr, nullptr, &key};
    spec.is_ca = true;
    spec.max_path_len = ca.pathlen > 0 ? ca.pathlen : ca.pathlenzero ? 0 : -1;
    spec.key_usage = key_usage_bits(profile.usages);
    spec.sans = &cert_sans;
    spec.profile = &profile;
    set_validity(spec, profile);
    X509Ptr cert = build_certificate(spec);  // before `key` moves: spec points at it
    MadeCa out{{}, std::move(key), std::move(cert)};
    if (csr) out.issued.csr = csr_pem(csr.get());
    out.issued.key = out.key.pem();
    return out;
}

}  // namespace

Issued init_ca(const CertificateRequest& request, Warnings& warnings) {
    MadeCa ca = new_ca(request, /*with_csr=*/true, warnings);
    ca.issued.cert = pem_of(std::move(ca.cert));
    return std::move(ca.issued);
}

// Signs with the objects it made: nothing is decoded back from the PEMs it returns.
NewCa init_ca_signer(const CertificateRequest& request, Warnings& warnings) {
    MadeCa ca = new_ca(request, /*with_csr=*/false, warnings);
    Certificate cert(ca.cert.release());
    ca.issued.cert = cert.pem();
    return {std::move(ca.issued), Signer(std::move(cert), std::move(ca.key))};
}

Issued issue(const CertificateRequest& request, const Signer& ca, const Profile& profile, const Overrides& overrides,
             Warnings& warnings) {
    return issue_with_key(request, PrivateKey::generate(request.key), ca, profile, overrides, warnings);
}

Issued issue_with_key(const CertificateRequest& request, const PrivateKey& key, const Signer& ca,
                      const Profile& profile, const Overrides& overrides, Warnings& warnings) {
    const SubjectAltNames sans =
        classify_hosts(overrides.hosts.value_or(request.hosts), hosts_source(overrides), warnings);
    const NamePtr subject = make_subject(request, overrides.cn.value_or(request.cn));
    const ReqPtr csr = build_csr(subject.get(), key, sans, request.ca);
    Issued out;
    out.cert =
        pem_of(sign_leaf(subject.get(), key.get(), X509_REQ_get_X509_PUBKEY(csr.get()), sans, ca, profile, warnings));
    out.csr = csr_pem(csr.get());
    out.key = key.pem();
    return out;
}

Certificate issue_certificate(const CertificateRequest& request, const PrivateKey& key, const Signer& ca,
                              const Profile& profile, Warnings& warnings) {
    const SubjectAltNames sans = classify_hosts(request.hosts, "hosts", warnings);
    const NamePtr subject = make_subject(request, request.cn);
    // No SubjectPublicKeyInfo to copy: the certificate takes the key itself, so that the object stays
    // usable (its public key decoded) without a round trip through DER.
    return Certificate(sign_leaf(subject.get(), key.get(), nullptr, sans, ca, profile, warnings).release());
}

Issued generate_key(const CertificateRequest& request, Warnings& warnings) {
    const SubjectAltNames sans = classify_hosts(request.hosts, "hosts", warnings);
    const PrivateKey key = PrivateKey::generate(request.key);
    const NamePtr subject = make_subject(request, request.cn);
    Issued out;
    out.csr = csr_pem(build_csr(subject.get(), key, sans, request.ca).get());
    out.key = key.pem();
    return out;
}

std::string sign_csr(std::string_view csr_pem, std::string_view source, const Signer& ca, const Profile& profile,
                     const Overrides& overrides, Warnings& warnings) {
    const Csr csr = Csr::from_pem(csr_pem, source);
    refuse_weak_signature(csr, source);
    csr.verify_self_signature(source);
    EVP_PKEY* pub = X509_REQ_get0_pubkey(csr.get());
    check_request_key(pub, source);
    const X509_NAME* requested = X509_REQ_get_subject_name(csr.get());
    NamePtr subject(overrides.cn || overrides.names || overrides.serialnumber ? override_subject(requested, overrides)
                                                                              : X509_NAME_dup(requested));
    const RequestedExtensions asked = requested_extensions(csr, source);
    const SubjectAltNames sans = classify_hosts(
        overrides.hosts.value_or(asked.hosts), overrides.hosts ? "-hostname" : std::string(source) + ": SAN", warnings);
    return pem_of(
        sign_leaf(subject.get(), pub, X509_REQ_get_X509_PUBKEY(csr.get()), sans, ca, profile, warnings, asked.is_ca));
}

Issued self_sign(const CertificateRequest& request, const Profile& profile, Warnings& warnings) {
    const SubjectAltNames asked = classify_hosts(request.hosts, "hosts", warnings);
    const SubjectAltNames sans = profile.is_ca ? ca_sans(asked, warnings) : asked;
    const NamePtr subject = make_subject(request, request.cn);
    require_identity(subject.get(), sans);
    check_whitelist(profile, request.cn, sans);
    const PrivateKey key = PrivateKey::generate(request.key);
    const ReqPtr csr = build_csr(subject.get(), key, sans, request.ca);
    CertSpec spec{subject.get(), key.get(), X509_REQ_get_X509_PUBKEY(csr.get()), nullptr, &key};
    spec.is_ca = profile.is_ca;
    spec.key_usage = leaf_key_usage(profile, key.get(), warnings);
    spec.ext_key_usage = ext_key_usage_nids(profile.usages);
    spec.sans = &sans;
    spec.profile = &profile;
    set_validity(spec, profile);
    Issued out;
    out.cert = pem_of(build_certificate(spec));
    out.csr = csr_pem(csr.get());
    out.key = key.pem();
    return out;
}

std::optional<std::string> subject_value_problem(std::string_view type, std::string_view value) {
    NamePtr name(X509_NAME_new());
    ERR_clear_error();
    if (X509_NAME_add_entry_by_txt(name.get(), std::string(type).c_str(), MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value.data()), static_cast<int>(value.size()),
                                   -1, 0) == 1)
        return std::nullopt;
    return "\"" + excerpt(value) + "\" cannot be a subject " + std::string(type) + ": " + openssl_error();
}

std::string generate_crl(const std::vector<std::string>& serials, const Signer& ca, Duration expiry) {
    Owned<X509_CRL, X509_CRL_free> crl(X509_CRL_new());
    X509_CRL_set_version(crl.get(), 1);  // v2, needed for extensions
    X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(ca.certificate().get()));
    const auto now = Clock::now();
    Owned<ASN1_TIME, ASN1_TIME_free> last(ASN1_TIME_set(nullptr, Clock::to_time_t(now)));
    Owned<ASN1_TIME, ASN1_TIME_free> next(ASN1_TIME_set(nullptr, Clock::to_time_t(now + expiry)));
    X509_CRL_set1_lastUpdate(crl.get(), last.get());
    X509_CRL_set1_nextUpdate(crl.get(), next.get());
    for (const auto& serial : serials) {
        if (serial.empty() || serial.find_first_not_of("0123456789") != std::string::npos || serial.size() > 60)
            throw Error(Code::InputInvalidValue, "serial \"" + serial + "\" is not a decimal serial number");
        BIGNUM* bn = nullptr;
        BN_dec2bn(&bn, serial.c_str());
        BnPtr owned(bn);
        X509_REVOKED* rev = X509_REVOKED_new();
        ASN1_INTEGER* asn = BN_to_ASN1_INTEGER(bn, nullptr);
        X509_REVOKED_set_serialNumber(rev, asn);
        ASN1_INTEGER_free(asn);
        X509_REVOKED_set_revocationDate(rev, last.get());
        X509_CRL_add0_revoked(crl.get(), rev);
    }
    AUTHORITY_KEYID* aki = AUTHORITY_KEYID_new();
    aki->keyid = ASN1_OCTET_STRING_new();
    if (const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(ca.certificate().get()))
        ASN1_OCTET_STRING_set(aki->keyid, ASN1_STRING_get0_data(ski), ASN1_STRING_length(ski));
    else {
        const auto id = key_identifier(X509_get_X509_PUBKEY(ca.certificate().get()));
        ASN1_OCTET_STRING_set(aki->keyid, id.data(), static_cast<int>(id.size()));
    }
    X509_CRL_add1_ext_i2d(crl.get(), NID_authority_key_identifier, aki, 0, X509V3_ADD_DEFAULT);
    AUTHORITY_KEYID_free(aki);
    X509_CRL_sort(crl.get());
    if (X509_CRL_sign(crl.get(), ca.key().get(), ca.key().signature_digest()) <= 0)
        sign_failed("signing the CRL failed");
    unsigned char* der = nullptr;
    const int len = i2d_X509_CRL(crl.get(), &der);
    if (len < 0) sign_failed("encoding the CRL failed");
    std::string out = base64_encode(std::string_view(reinterpret_cast<const char*>(der), static_cast<size_t>(len)));
    OPENSSL_free(der);
    return out;
}

}  // namespace trellis::pki
