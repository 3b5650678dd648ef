#include "pki/certinfo.hpp"

#include <openssl/pem.h>

#include <array>
#include <charconv>
#include <cstdint>
#include <ctime>

#include "core/error.hpp"
#include "core/text.hpp"
#include "pki/openssl_util.hpp"

namespace trellis::pki {
namespace {

using namespace detail;

struct SigAlg {
    int nid;
    std::string_view go_name;  // helpers.SignatureString
    int go_value;              // Go's x509.SignatureAlgorithm enum
};
constexpr auto kSigAlgs = std::to_array<SigAlg>({
    {NID_md5WithRSAEncryption, "MD5WithRSA", 2},
    {NID_sha1WithRSAEncryption, "SHA1WithRSA", 3},
    {NID_sha256WithRSAEncryption, "SHA256WithRSA", 4},
    {NID_sha384WithRSAEncryption, "SHA384WithRSA", 5},
    {NID_sha512WithRSAEncryption, "SHA512WithRSA", 6},
    {NID_dsaWithSHA1, "DSAWithSHA1", 7},
    {NID_dsa_with_SHA256, "DSAWithSHA256", 8},
    {NID_ecdsa_with_SHA1, "ECDSAWithSHA1", 9},
    {NID_ecdsa_with_SHA256, "ECDSAWithSHA256", 10},
    {NID_ecdsa_with_SHA384, "ECDSAWithSHA384", 11},
    {NID_ecdsa_with_SHA512, "ECDSAWithSHA512", 12},
    {NID_rsassaPss, "SHA256WithRSAPSS", 13},
    {NID_ED25519, "Ed25519", 16},
    {NID_undef, "Unknown Signature", 0},
});

const SigAlg& sig_alg(int nid) {
    for (const auto& s : kSigAlgs)
        if (s.nid == nid) return s;
    return kSigAlgs.back();
}

// Go's x509.PublicKeyAlgorithm enum.
int go_public_key_algorithm(const EVP_PKEY* key) {
    switch (EVP_PKEY_get_base_id(key)) {
        case EVP_PKEY_RSA:
            return 1;
        case EVP_PKEY_DSA:
            return 2;
        case EVP_PKEY_EC:
            return 3;
        case EVP_PKEY_ED25519:
            return 4;
        default:
            return 0;
    }
}

std::string utf8(const ASN1_STRING* s) {
    unsigned char* out = nullptr;
    const int len = ASN1_STRING_to_UTF8(&out, s);
    return take_buffer(out, len);
}

struct NameKey {
    int nid;
    std::string_view json;  // certinfo.Name's tag
};
constexpr std::array<NameKey, 8> kNameKeys{{
    {NID_commonName, "common_name"},
    {NID_serialNumber, "serial_number"},
    {NID_countryName, "country"},
    {NID_organizationName, "organization"},
    {NID_organizationalUnitName, "organizational_unit"},
    {NID_localityName, "locality"},
    {NID_stateOrProvinceName, "province"},
    {NID_streetAddress, "street_address"},
}};

// certinfo.ParseName: each known attribute joined with ",", plus every value in order as "names".
nlohmann::json name_info(const X509_NAME* name) {
    nlohmann::json out = nlohmann::json::object();
    nlohmann::json names = nlohmann::json::array();
    for (int i = 0; i < X509_NAME_entry_count(name); ++i) {
        const X509_NAME_ENTRY* e = X509_NAME_get_entry(name, i);
        const int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
        const std::string value = utf8(X509_NAME_ENTRY_get_data(e));
        names.push_back(value);
        for (const auto& k : kNameKeys) {
            if (k.nid != nid) continue;
            auto& slot = out[std::string(k.json)];
            // Go keeps only the last CN and serialNumber but joins list-valued attributes.
            if (slot.is_string() && nid != NID_commonName && nid != NID_serialNumber)
                slot = slot.get<std::string>() + "," + value;
            else
                slot = value;
        }
        if (nid == NID_postalCode) out["postal_code"] = value;
    }
    if (!names.empty()) out["names"] = std::move(names);
    return out;
}

// Go's time.Time JSON for a UTC certificate time: RFC 3339 with "Z".
std::string rfc3339(const ASN1_TIME* t) {
    struct tm tm {};
    if (ASN1_TIME_to_tm(t, &tm) != 1) return {};
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

// SANs as certinfo lists them: DNS names, then IPs. cfssl leaves out emails and URIs; we append them
// after, so nothing in the certificate is hidden from the reader.
template <class Get>
std::vector<std::string> san_list(Get get_names) {
    GenNamesPtr names(get_names());
    std::vector<std::string> dns, ips, rest;
    for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
        const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
        switch (gn->type) {
            case GEN_DNS:
                dns.push_back(utf8(gn->d.dNSName));
                break;
            case GEN_IPADD:
                ips.push_back(ip_text(gn->d.iPAddress));
                break;
            case GEN_EMAIL:
                rest.push_back(utf8(gn->d.rfc822Name));
                break;
            case GEN_URI:
                rest.push_back(utf8(gn->d.uniformResourceIdentifier));
                break;
            default:
                break;
        }
    }
    dns.insert(dns.end(), ips.begin(), ips.end());
    dns.insert(dns.end(), rest.begin(), rest.end());
    return dns;
}

std::string key_id(const ASN1_OCTET_STRING* id) {
    return id ? hex(ASN1_STRING_get0_data(id), static_cast<size_t>(ASN1_STRING_length(id)), HexCase::Upper, ':')
              : std::string();
}

std::string base64(const unsigned char* data, int len) {
    return base64_encode(std::string_view(reinterpret_cast<const char*>(data), static_cast<size_t>(len)));
}

template <class T, class I2D>
std::string der_base64(T* obj, I2D i2d) {
    unsigned char* der = nullptr;
    const int len = i2d(obj, &der);
    if (len < 0) return {};
    std::string out = base64(der, len);
    OPENSSL_free(der);
    return out;
}

// Go's asn1.ObjectIdentifier ([]int): an arc beyond an int64 is refused, as Go refuses it, rather
// than wrapped or thrown as an internal error.
nlohmann::json oid_array(const ASN1_OBJECT* obj) {
    const int len = OBJ_obj2txt(nullptr, 0, obj, 1);
    if (len <= 0) throw Error(Code::CsrParseFailed, "an object identifier in the request does not decode");
    std::string text(static_cast<size_t>(len) + 1, '\0');
    OBJ_obj2txt(text.data(), len + 1, obj, 1);
    text.resize(static_cast<size_t>(len));
    nlohmann::json out = nlohmann::json::array();
    std::string_view s = text;
    while (!s.empty()) {
        const size_t dot = s.find('.');
        const std::string_view arc = s.substr(0, dot);
        std::int64_t value = 0;
        const auto [end, ec] = std::from_chars(arc.data(), arc.data() + arc.size(), value);
        if (ec != std::errc() || end != arc.data() + arc.size() || value < 0)
            throw Error(Code::CsrParseFailed, "object identifier " + excerpt(text) +
                                                  " has an arc larger than 2^63-1, which no X.509 reader accepts");
        out.push_back(value);
        if (dot == std::string_view::npos) break;
        s.remove_prefix(dot + 1);
    }
    return out;
}

// Go's pkix.Name as encoding/json writes it (list fields null when absent).
nlohmann::json go_name(const X509_NAME* name) {
    struct Field {
        std::string_view key;
        int nid;
    };
    static constexpr std::array<Field, 7> kFields{{
        {"Country", NID_countryName},
        {"Organization", NID_organizationName},
        {"OrganizationalUnit", NID_organizationalUnitName},
        {"Locality", NID_localityName},
        {"Province", NID_stateOrProvinceName},
        {"StreetAddress", NID_streetAddress},
        {"PostalCode", NID_postalCode},
    }};
    nlohmann::json out = nlohmann::json::object();
    nlohmann::json names = nlohmann::json::array();
    for (const auto& f : kFields) out[std::string(f.key)] = nullptr;
    out["SerialNumber"] = "";
    out["CommonName"] = "";
    for (int i = 0; i < X509_NAME_entry_count(name); ++i) {
        const X509_NAME_ENTRY* e = X509_NAME_get_entry(name, i);
        const ASN1_OBJECT* obj = X509_NAME_ENTRY_get_object(e);
        const int nid = OBJ_obj2nid(obj);
        const std::string value = utf8(X509_NAME_ENTRY_get_data(e));
        names.push_back({{"Type", oid_array(obj)}, {"Value", value}});
        if (nid == NID_commonName) out["CommonName"] = value;
        if (nid == NID_serialNumber) out["SerialNumber"] = value;
        for (const auto& f : kFields) {
            if (f.nid != nid) continue;
            auto& slot = out[std::string(f.key)];
            if (slot.is_null()) slot = nlohmann::json::array();
            slot.push_back(value);
        }
    }
    out["Names"] = names.empty() ? nlohmann::json(nullptr) : names;
    out["ExtraNames"] = nullptr;
    return out;
}

nlohmann::json null_if_empty(const std::vector<std::string>& v) {
    return v.empty() ? nlohmann::json(nullptr) : nlohmann::json(v);
}

}  // namespace

nlohmann::json certificate_info(const Certificate& cert) {
    X509* x = cert.get();
    nlohmann::json out;
    out["subject"] = name_info(X509_get_subject_name(x));
    out["issuer"] = name_info(X509_get_issuer_name(x));
    out["serial_number"] = cert.serial_decimal();
    const auto sans = san_list(
        [&] { return static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr)); });
    if (!sans.empty()) out["sans"] = sans;
    out["not_before"] = rfc3339(X509_get0_notBefore(x));
    out["not_after"] = rfc3339(X509_get0_notAfter(x));
    out["sigalg"] = sig_alg(X509_get_signature_nid(x)).go_name;
    out["authority_key_id"] = key_id(X509_get0_authority_key_id(x));
    out["subject_key_id"] = key_id(X509_get0_subject_key_id(x));
    out["pem"] = cert.pem();
    return out;
}

// cfssl 1.2's `certinfo -csr` prints Go's x509.CertificateRequest as encoding/json sees it. We print the
// same members except PublicKey and Attributes (Go dumps the key's internal big integers and the raw
// attribute tree; RawSubjectPublicKeyInfo and Extensions carry the same information).
nlohmann::json csr_info(const Csr& csr) {
    X509_REQ* req = csr.get();
    nlohmann::json out;
    out["Raw"] = der_base64(req, i2d_X509_REQ);
    out["RawTBSCertificateRequest"] = der_base64(req, i2d_re_X509_REQ_tbs);
    out["RawSubjectPublicKeyInfo"] = der_base64(X509_REQ_get_X509_PUBKEY(req), i2d_X509_PUBKEY);
    out["RawSubject"] = der_base64(X509_REQ_get_subject_name(req), i2d_X509_NAME);
    out["Version"] = X509_REQ_get_version(req);
    const ASN1_BIT_STRING* sig = nullptr;
    const X509_ALGOR* alg = nullptr;
    X509_REQ_get0_signature(req, &sig, &alg);
    out["Signature"] = sig ? base64(ASN1_STRING_get0_data(sig), ASN1_STRING_length(sig)) : "";
    out["SignatureAlgorithm"] = sig_alg(X509_REQ_get_signature_nid(req)).go_value;
    out["PublicKeyAlgorithm"] = go_public_key_algorithm(X509_REQ_get0_pubkey(req));
    out["Subject"] = go_name(X509_REQ_get_subject_name(req));
    nlohmann::json exts = nlohmann::json::array();
    std::vector<std::string> dns, emails, ips, uris;
    // Owned: oid_array may throw on a hostile OID, and the list must not leak then.
    ExtensionsPtr list(X509_REQ_get_extensions(req));
    for (int i = 0; i < sk_X509_EXTENSION_num(list.get()); ++i) {
        X509_EXTENSION* ext = sk_X509_EXTENSION_value(list.get(), i);
        const ASN1_OCTET_STRING* value = X509_EXTENSION_get_data(ext);
        exts.push_back({{"Id", oid_array(X509_EXTENSION_get_object(ext))},
                        {"Critical", X509_EXTENSION_get_critical(ext) != 0},
                        {"Value", base64(ASN1_STRING_get0_data(value), ASN1_STRING_length(value))}});
        if (OBJ_obj2nid(X509_EXTENSION_get_object(ext)) != NID_subject_alt_name) continue;
        GenNamesPtr names(static_cast<GENERAL_NAMES*>(X509V3_EXT_d2i(ext)));
        for (int j = 0; names && j < sk_GENERAL_NAME_num(names.get()); ++j) {
            const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), j);
            if (gn->type == GEN_DNS) dns.push_back(utf8(gn->d.dNSName));
            if (gn->type == GEN_EMAIL) emails.push_back(utf8(gn->d.rfc822Name));
            if (gn->type == GEN_IPADD) ips.push_back(ip_text(gn->d.iPAddress));
            if (gn->type == GEN_URI) uris.push_back(utf8(gn->d.uniformResourceIdentifier));
        }
    }
    out["Extensions"] = exts.empty() ? nlohmann::json(nullptr) : exts;
    out["ExtraExtensions"] = nullptr;
    out["DNSNames"] = null_if_empty(dns);
    out["EmailAddresses"] = null_if_empty(emails);
    out["IPAddresses"] = null_if_empty(ips);
    out["URIs"] = null_if_empty(uris);
    return out;
}

}  // namespace trellis::pki
