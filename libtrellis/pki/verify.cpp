#include "pki/verify.hpp"

#include <botan/ber_dec.h>
#include <botan/certstor.h>
#include <botan/data_src.h>
#include <botan/ec_group.h>
#include <botan/oids.h>
#include <botan/pk_keys.h>
#include <botan/pubkey.h>
#include <botan/x509_ext.h>
#include <botan/x509cert.h>
#include <botan/x509path.h>
#include <array>
#include <cstring>
#include <mutex>
#include <set>
#include <system_error>

#include "core/error.hpp"
#include "core/host.hpp"
#include "pki/openssl_util.hpp"

namespace trellis::pki {
namespace {

using namespace detail;

// Minimum security strength in bits: RSA-2048 is 112, so everything Trellis issues passes and
// RSA-1024 (80) or SHA-1 signatures fail. OpenSSL's auth level 2 is the same 112-bit floor.
constexpr size_t kMinimumStrength = 110;
constexpr int kOpensslAuthLevel = 2;

struct PurposeMap {
    Purpose purpose;
    int openssl;  // X509_PURPOSE_*, 0: leave unset
    Botan::Usage_Type botan;
};
constexpr std::array<PurposeMap, 3> kPurposes{{
    {Purpose::Any, 0, Botan::Usage_Type::UNSPECIFIED},
    {Purpose::ServerAuth, X509_PURPOSE_SSL_SERVER, Botan::Usage_Type::TLS_SERVER_AUTH},
    {Purpose::ClientAuth, X509_PURPOSE_SSL_CLIENT, Botan::Usage_Type::TLS_CLIENT_AUTH},
}};

const PurposeMap& purpose_of(Purpose p) {
    for (const auto& m : kPurposes)
        if (m.purpose == p) return m;
    return kPurposes.front();
}

Botan::X509_Certificate to_botan(const Certificate& cert) {
    const std::string der = cert.der();
    Botan::DataSource_Memory src(reinterpret_cast<const uint8_t*>(der.data()), der.size());
    return Botan::X509_Certificate(src);
}

// Botan 2's AlternativeName keeps only IPv4 addresses, so read iPAddress entries from the raw extension.
bool botan_covers_ip(const Botan::X509_Certificate& cert, const std::vector<uint8_t>& ip) {
    const std::vector<uint8_t> bits = cert.v3_extensions().get_extension_bits(Botan::OID("2.5.29.17"));
    if (bits.empty()) return false;
    Botan::BER_Decoder outer(bits);
    Botan::BER_Decoder names = outer.start_cons(Botan::SEQUENCE);
    while (names.more_items()) {
        const Botan::BER_Object obj = names.get_next_object();
        if (obj.is_a(7, Botan::CONTEXT_SPECIFIC) && obj.length() == ip.size() &&
            std::memcmp(obj.bits(), ip.data(), ip.size()) == 0)
            return true;
    }
    return false;
}

// sk_X509_free is a macro; Owned needs a function.
void free_x509_stack(STACK_OF(X509) * s) { sk_X509_free(s); }

}  // namespace

VerifyResult verify_with_openssl(const VerifyRequest& request) {
    Owned<X509_STORE, X509_STORE_free> store(X509_STORE_new());
    for (const auto& root : request.roots) X509_STORE_add_cert(store.get(), root.get());
    Owned<STACK_OF(X509), free_x509_stack> chain(sk_X509_new_null());
    for (const auto& c : request.intermediates) sk_X509_push(chain.get(), c.get());
    Owned<X509_STORE_CTX, X509_STORE_CTX_free> ctx(X509_STORE_CTX_new());
    if (X509_STORE_CTX_init(ctx.get(), store.get(), request.leaf.get(), chain.get()) != 1)
        return {false, "cannot set up OpenSSL verification: " + openssl_error()};
    X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
    X509_VERIFY_PARAM_set_auth_level(param, kOpensslAuthLevel);
    if (const int purpose = purpose_of(request.purpose).openssl) X509_STORE_CTX_set_purpose(ctx.get(), purpose);
    if (request.at) X509_VERIFY_PARAM_set_time(param, Clock::to_time_t(*request.at));
    if (request.host) {
        if (!ip_bytes(*request.host).empty()) {
            X509_VERIFY_PARAM_set1_ip_asc(param, request.host->c_str());
        } else {
            X509_VERIFY_PARAM_set_hostflags(param,
                                            X509_CHECK_FLAG_NEVER_CHECK_SUBJECT | X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            X509_VERIFY_PARAM_set1_host(param, request.host->c_str(), request.host->size());
        }
    }
    ERR_clear_error();
    if (X509_verify_cert(ctx.get()) == 1) return {true, {}};
    const int err = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    return {false, std::string("OpenSSL: ") + X509_verify_cert_error_string(err)};
}

VerifyResult verify_with_botan(const VerifyRequest& request) {
    try {
        Botan::Certificate_Store_In_Memory store;
        for (const auto& root : request.roots) store.add_certificate(to_botan(root));
        std::vector<Botan::X509_Certificate> chain{to_botan(request.leaf)};
        for (const auto& c : request.intermediates) chain.push_back(to_botan(c));
        const Botan::Path_Validation_Restrictions restrictions(false, kMinimumStrength);
        std::string hostname;
        std::vector<uint8_t> ip;
        if (request.host) {
            ip = ip_bytes(*request.host);
            if (ip.empty()) hostname = *request.host;
        }
        const auto result = Botan::x509_path_validate(
            chain, restrictions, store, hostname, purpose_of(request.purpose).botan, request.at.value_or(Clock::now()));
        if (!result.successful_validation()) return {false, "Botan: " + result.result_string()};
        if (!ip.empty() && !botan_covers_ip(chain.front(), ip))
            return {false, "Botan: certificate does not cover IP address " + *request.host};
        return {true, {}};
    } catch (const std::exception& e) {
        return {false, std::string("Botan: ") + e.what()};
    }
}

namespace {

std::string openssl_signature_failure(const Certificate& cert, const Certificate& issuer) {
    EVP_PKEY* key = X509_get0_pubkey(issuer.get());
    ERR_clear_error();
    if (key != nullptr && X509_verify(cert.get(), key) == 1) return {};
    return "OpenSSL: signature does not verify";
}

std::string botan_signature_failure(const Certificate& cert, const Certificate& issuer) {
    try {
        if (to_botan(cert).check_signature(*to_botan(issuer).load_subject_public_key())) return {};
        return "Botan: signature does not verify";
    } catch (const std::exception& e) {
        return std::string("Botan: ") + e.what();
    }
}

void add(std::string& failures, const std::string& failure) {
    if (!failure.empty()) failures += (failures.empty() ? "" : "; ") + failure;
}

}  // namespace

void verify_issued(const Certificate& cert, const Certificate& issuer) {
    VerifyRequest request{
        .leaf = cert, .intermediates = {}, .roots = {issuer}, .purpose = Purpose::Any, .host = {}, .at = {}};
    const auto now = Clock::now();
    if (now < cert.not_before() || now > cert.not_after())
        request.at = std::max(cert.not_before(), issuer.not_before());
    const bool self_signed = X509_cmp(cert.get(), issuer.get()) == 0;
    std::string failures;
    if (ASN1_TIME_compare(X509_get0_notBefore(cert.get()), X509_get0_notAfter(issuer.get())) > 0 ||
        ASN1_TIME_compare(X509_get0_notAfter(cert.get()), X509_get0_notBefore(issuer.get())) < 0) {
        // Both stacks would say "expired" or "not yet valid" at whatever moment we picked; say why.
        failures = "its validity does not overlap its issuer's, so no chain through it ever verifies";
    } else if (request.at == Clock::time_point::max()) {
        // Valid only after 2262, where Clock ends (Certificate saturates): check the signatures.
        add(failures, openssl_signature_failure(cert, issuer));
        add(failures, botan_signature_failure(cert, issuer));
    } else if (self_signed) {
        // Botan 2 never accepts a self-signed end certificate as a path ("Cannot establish trust"):
        // for a new root or a selfsign certificate, Botan checks the signature.
        add(failures, verify_with_openssl(request).error);
        add(failures, botan_signature_failure(cert, issuer));
    } else {
        add(failures, chain_problem(request));
    }
    if (!failures.empty())
        throw Error(Code::CertVerifyFailed, "the certificate just made does not verify against its issuer \"" +
                                                excerpt(issuer.common_name()) + "\" (" + failures +
                                                "); nothing was written");
}

std::string chain_problem(const VerifyRequest& request) {
    const VerifyResult ossl = verify_with_openssl(request);
    const VerifyResult botan = verify_with_botan(request);
    std::string why;
    if (!ossl.ok) why += ossl.error;
    if (!botan.ok) why += (why.empty() ? "" : "; ") + botan.error;
    return why;
}

void require_chain(const VerifyRequest& request, std::string_view what) {
    if (const std::string why = chain_problem(request); !why.empty())
        throw Error(Code::CertVerifyFailed, located(what, "the certificate does not verify: " + why));
}

}  // namespace trellis::pki

// ---- LeafChecker -------------------------------------------------------------------------------

namespace trellis::pki {
namespace {

using Status = Botan::Certificate_Status_Code;
using BotanCert = std::shared_ptr<const Botan::X509_Certificate>;

// The padding X509_Object::verify_signature derives from the signature algorithm, or "" where
// only Botan's own call handles it (RSA-PSS parameters, an algorithm that is not the CA key's).
std::string padding_of(const Botan::X509_Certificate& leaf, const Botan::Public_Key& key) {
    const std::string name = leaf.signature_algorithm().get_oid().to_formatted_string();
    const size_t slash = name.find('/');
    if (slash == std::string::npos) return key.algo_name() == "Ed25519" && name == "Ed25519" ? "Pure" : "";
    if (name.substr(0, slash) != key.algo_name() || name.compare(slash + 1, 5, "EMSA4") == 0) return "";
    return name.substr(slash + 1);
}

// The status Path_Validation_Result would report: the highest error code, if any.
std::optional<Status> worst_error(const std::set<Status>& status) {
    if (status.empty() || *status.rbegin() < Status::FIRST_ERROR_STATUS) return std::nullopt;
    return *status.rbegin();
}

void add_dn_lengths(const Botan::X509_Certificate& leaf, std::set<Status>& status) {
    for (const auto& [oid, value] : leaf.subject_dn().dn_info()) {
        const size_t ub = Botan::X509_DN::lookup_ub(oid);
        if (ub > 0 && value.size() > ub) status.insert(Status::DN_TOO_LONG);
    }
}

void add_validity(const Botan::X509_Certificate& c, const Botan::X509_Time& now, std::set<Status>& status) {
    if (now < c.not_before()) status.insert(Status::CERT_NOT_YET_VALID);
    if (now > c.not_after()) status.insert(Status::CERT_HAS_EXPIRED);
}

}  // namespace

struct LeafChecker::Botan {
    BotanCert ca;
    std::unique_ptr<::Botan::Public_Key> key;
    ::Botan::Path_Validation_Restrictions restrictions{false, kMinimumStrength};
    std::mutex mutex;
    std::vector<std::pair<std::string, std::unique_ptr<::Botan::PK_Verifier>>> idle;  // verifiers by padding

    bool signature_ok(const ::Botan::X509_Certificate& leaf);
    std::set<Status> leaf_status(const BotanCert& leaf, ::Botan::Usage_Type usage);
};

// A verifier is built once per padding and thread (building one precomputes tables for the CA's key).
bool LeafChecker::Botan::signature_ok(const ::Botan::X509_Certificate& leaf) {
    const std::string padding = padding_of(leaf, *key);
    if (padding.empty()) return leaf.check_signature(*key);
    std::unique_ptr<::Botan::PK_Verifier> verifier;
    {
        std::lock_guard lock(mutex);
        for (auto it = idle.begin(); it != idle.end(); ++it)
            if (it->first == padding) {
                verifier = std::move(it->second);
                idle.erase(it);
                break;
            }
    }
    if (!verifier)
        verifier = std::make_unique<::Botan::PK_Verifier>(*key, padding, key->default_x509_signature_format());
    const bool ok = verifier->verify_message(leaf.tbs_data(), leaf.signature());
    std::lock_guard lock(mutex);
    idle.emplace_back(padding, std::move(verifier));
    return ok;
}

// PKIX::check_chain's checks of the first certificate of [leaf, ca], in its order; the CA's own
// checks ran once, in the constructor, except its validity, which moves with the clock.
std::set<Status> LeafChecker::Botan::leaf_status(const BotanCert& leaf, ::Botan::Usage_Type usage) {
    std::set<Status> status;
    const ::Botan::X509_Time now(std::chrono::system_clock::now());
    if (!leaf->allowed_usage(usage)) status.insert(Status::INVALID_USAGE);
    if (!leaf->is_CA_cert() && leaf->has_constraints(::Botan::KEY_CERT_SIGN)) status.insert(Status::INVALID_USAGE);
    if (leaf->issuer_dn() != ca->subject_dn()) status.insert(Status::CHAIN_NAME_MISMATCH);
    if (leaf->is_serial_negative()) status.insert(Status::CERT_SERIAL_NEGATIVE);
    add_dn_lengths(*leaf, status);
    add_validity(*leaf, now, status);
    add_validity(*ca, now, status);
    if (!ca->is_CA_cert()) status.insert(Status::CA_CERT_NOT_FOR_CERT_ISSUER);
    if (::Botan::OIDS::oid2str_or_empty(leaf->signature_algorithm().get_oid()).empty()) {
        status.insert(Status::SIGNATURE_ALGO_UNKNOWN);
    } else {
        if (!signature_ok(*leaf)) status.insert(Status::SIGNATURE_ERROR);
        if (key->estimated_strength() < restrictions.minimum_key_strength())
            status.insert(Status::SIGNATURE_METHOD_TOO_WEAK);
        const auto& hashes = restrictions.trusted_hashes();
        if (!hashes.empty() && hashes.count(leaf->hash_used_for_signature()) == 0)
            status.insert(Status::UNTRUSTED_HASH);
    }
    const ::Botan::Extensions& extensions = leaf->v3_extensions();
    const auto list = extensions.extensions();
    if (leaf->x509_version() < 3 && !list.empty()) status.insert(Status::EXT_IN_V1_V2_CERT);
    const std::vector<BotanCert> path{leaf, ca};
    std::vector<std::set<Status>> path_status(path.size());
    for (const auto& extension : list) extension.first->validate(*leaf, *ca, path, path_status, 0);
    for (const auto& s : path_status) status.insert(s.begin(), s.end());
    if (list.size() != extensions.get_extension_oids().size()) status.insert(Status::DUPLICATE_CERT_EXTENSION);
    return status;
}

LeafChecker::LeafChecker(const Certificate& ca) : ca_(ca), botan_(std::make_unique<Botan>()) {
    std::string why;
    try {
        botan_->ca = std::make_shared<const ::Botan::X509_Certificate>(to_botan(ca));
        botan_->key.reset(botan_->ca->subject_public_key());
        const auto status = ::Botan::PKIX::check_chain({botan_->ca}, std::chrono::system_clock::now(), "",
                                                       ::Botan::Usage_Type::UNSPECIFIED, kMinimumStrength, {});
        if (const auto worst = worst_error(status.front()))
            why = ::Botan::Path_Validation_Result::status_string(*worst);
    } catch (const std::exception& e) {
        why = e.what();
    }
    if (!why.empty())
        throw Error(Code::CertVerifyFailed,
                    "the CA \"" + excerpt(ca.common_name()) + "\" does not verify: Botan: " + why);
}

LeafChecker::~LeafChecker() = default;

CheckWarmup::CheckWarmup(const KeyRequest& issuer_key) {
    std::string oid = curve_oid(issuer_key);
    if (oid.empty()) return;
    // Botan keeps a curve's tables for the life of the process: one warm-up per curve is enough.
    static std::mutex mutex;
    static std::set<std::string> started;
    if (const std::lock_guard lock(mutex); !started.insert(oid).second) return;
    // Only a head start: without a thread to spare, or if Botan refuses, the check builds the tables itself
    // and reports what fails.
    try {
        thread_.emplace([oid = std::move(oid)] {
            try {
                const ::Botan::EC_Group group{::Botan::OID(oid)};  // cached by Botan for the process
            } catch (...) {
            }
        });
    } catch (const std::system_error&) {
    }
}

void LeafChecker::require(const Certificate& leaf, Purpose purpose, std::string_view what) const {
    std::string failures;
    add(failures, verify_with_openssl({leaf, {}, {ca_}, purpose, std::nullopt, std::nullopt}).error);
    try {
        const auto status = botan_->leaf_status(std::make_shared<const ::Botan::X509_Certificate>(to_botan(leaf)),
                                                purpose_of(purpose).botan);
        if (const auto worst = worst_error(status))
            add(failures, std::string("Botan: ") + ::Botan::Path_Validation_Result::status_string(*worst));
    } catch (const std::exception& e) {
        add(failures, std::string("Botan: ") + e.what());
    }
    if (!failures.empty())
        throw Error(Code::CertVerifyFailed, located(what, "the certificate does not verify: " + failures));
}

}  // namespace trellis::pki
