// certgen: cfssl's gencert/genkey/sign/certinfo/selfsign/gencrl/print-defaults
// as a drop-in for the guide's commands. Flags and arguments are cfssl's; every
// certificate decision is libtrellis/pki's; this file only reads inputs, calls
// the library and prints what cfssl prints.
#include <CLI/CLI.hpp>

#include <array>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <variant>

#include "args.hpp"
#include "cli/app.hpp"
#include "core/cli.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/text.hpp"
#include "pki/certinfo.hpp"
#include "pki/issue.hpp"
#include "pki/policy.hpp"
#include "pki/process.hpp"
#include "pki/request.hpp"
#include "pki/verify.hpp"

namespace {

using namespace trellis;
using certgen::FlagKind;

struct Options {
    std::string ca, ca_key, config, profile, hostname, cn, cert, csr, domain;
    std::string ca_key_passphrase_file, ca_key_passphrase_env, key_passphrase_file, key_passphrase_env;
    std::string format = "text";
    bool initca = false, strict = false;
    std::vector<std::string> args;
};

// Every flag certgen knows, once: its Go-style name, kind, help and where it lands.
struct Flag {
    std::string_view name;
    std::variant<std::string Options::*, bool Options::*> field;
    std::string_view help;
};
constexpr std::array<Flag, 15> kFlags{{
    {"initca", &Options::initca, "make a new CA (self-signed) instead of a leaf"},
    {"ca", &Options::ca, "CA certificate that signs (path, file:PATH or env:NAME)"},
    {"ca-key", &Options::ca_key, "CA private key (path, file:PATH or env:NAME)"},
    {"ca-key-passphrase-file", &Options::ca_key_passphrase_file, "file holding the passphrase of an encrypted -ca-key"},
    {"ca-key-passphrase-env", &Options::ca_key_passphrase_env, "environment variable holding the -ca-key passphrase"},
    {"key-passphrase-file", &Options::key_passphrase_file, "encrypt the new key with the passphrase in this file"},
    {"key-passphrase-env", &Options::key_passphrase_env, "encrypt the new key with the passphrase in this variable"},
    {"config", &Options::config, "signing policy (cfssl ca-config.json); default: cfssl's built-in policy"},
    {"profile", &Options::profile, "signing profile of -config to use (default: signing.default)"},
    {"hostname", &Options::hostname, "comma-separated SANs replacing the request's \"hosts\""},
    {"cn", &Options::cn, "common name replacing the request's \"CN\""},
    {"strict", &Options::strict, "make an unknown -profile an error instead of a warning"},
    {"cert", &Options::cert, "certificate file to describe ('-' for stdin)"},
    {"csr", &Options::csr, "PEM certificate request file ('-' for stdin)"},
    {"domain", &Options::domain, "(cfssl: fetch a server's certificate) not supported: certgen uses no network"},
}};

std::vector<certgen::FlagName> flag_names() {
    std::vector<certgen::FlagName> names{{"help", FlagKind::Bool}, {"format", FlagKind::Value}};
    for (const auto& f : kFlags)
        names.push_back({f.name, std::holds_alternative<bool Options::*>(f.field) ? FlagKind::Bool : FlagKind::Value});
    return names;
}

// ---- inputs ----------------------------------------------------------------

std::string strip_newline(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
}

// A passphrase from -X-passphrase-file or -X-passphrase-env (at most one of them).
std::optional<std::string> passphrase(const std::string& file, const std::string& env, std::string_view flag) {
    if (!file.empty() && !env.empty())
        throw Error(Code::Usage, "give -" + std::string(flag) + "-passphrase-file or -" + std::string(flag) +
                                     "-passphrase-env, not both");
    if (file.empty() && env.empty()) return std::nullopt;
    std::string value = strip_newline(file.empty() ? read_source("env:" + env) : read_file(file));
    if (value.empty())
        throw Error(Code::InputInvalidValue, located(file.empty() ? "$" + env : file,
                                                     "the passphrase is empty; an empty passphrase protects nothing"));
    return value;
}

std::string source_name(const std::string& arg) { return arg == "-" ? "<stdin>" : arg; }

pki::CertificateRequest read_request(const std::string& arg, Warnings& warnings) {
    return pki::parse_certificate_request(read_input(arg), source_name(arg), warnings);
}

pki::SigningPolicy read_policy(const Options& o, Warnings& warnings) {
    if (o.config.empty()) return pki::default_signing_policy();
    return pki::parse_signing_policy(read_file(o.config), o.config, warnings);
}

pki::Signer load_signer(const Options& o) {
    // cfssl logs "need a CA certificate" and exits 0; a missing CA is a usage error here.
    if (o.ca.empty())
        throw Error(Code::Usage, "need a CA certificate: provide one with -ca (or use -initca to make one)");
    if (o.ca_key.empty()) throw Error(Code::Usage, "need the CA's private key: provide it with -ca-key");
    return pki::Signer::load(o.ca, o.ca_key, passphrase(o.ca_key_passphrase_file, o.ca_key_passphrase_env, "ca-key"));
}

pki::Overrides overrides(const Options& o) {
    pki::Overrides out;
    // cfssl treats -hostname="" as "not given": the request's hosts stay.
    if (!o.hostname.empty()) out.hosts = pki::split_hostnames(o.hostname);
    if (!o.cn.empty()) out.cn = o.cn;
    return out;
}

void reject_ca_section(const pki::CertificateRequest& request, const std::string& arg) {
    if (request.ca)
        throw Error(Code::CsrInvalid, located(source_name(arg), "ca: the \"ca\" section is only allowed with -initca"));
}

// Encrypts the fresh key when -key-passphrase-* asks for it.
void maybe_encrypt(const Options& o, pki::Issued& issued) {
    const auto pass = passphrase(o.key_passphrase_file, o.key_passphrase_env, "key");
    if (pass && !issued.key.empty())
        issued.key = pki::PrivateKey::from_pem(issued.key, "the new key").encrypted_pem(*pass);
}

const std::string& arg(const Options& o, size_t i) { return o.args.at(i); }

// Nothing certgen prints is unchecked: the new certificate must verify against its issuer (itself
// when self-signed) with OpenSSL and with Botan, or nothing is printed.
void check_issued(const std::string& cert_pem, const pki::Signer* signer) {
    const auto cert = pki::Certificate::from_pem(cert_pem, "the new certificate");
    pki::verify_issued(cert, signer != nullptr ? signer->certificate() : cert);
}

// ---- commands --------------------------------------------------------------

int gencert(const Options& o, Warnings& w) {
    auto request = read_request(arg(o, 0), w);
    pki::Issued issued;
    if (o.initca) {
        if (!o.ca_key.empty())
            throw Error(Code::Usage,
                        "-initca with -ca-key (re-making a CA from its old key) is not supported; "
                        "drop -ca-key to make a new CA");
        if (!o.hostname.empty())
            w.push_back("-hostname is ignored with -initca (as cfssl does); put hosts in the CSR JSON");
        if (!o.cn.empty()) request.cn = o.cn;
        const pki::CheckWarmup warmup(request.key);  // Botan's tables on the other core while OpenSSL signs
        issued = pki::init_ca(request, w);
        check_issued(issued.cert, nullptr);
    } else {
        reject_ca_section(request, arg(o, 0));
        const auto policy = read_policy(o, w);
        const auto& profile = policy.profile(o.profile, o.strict, w);
        const auto signer = load_signer(o);
        const pki::CheckWarmup warmup(signer.key().describe());
        issued = pki::issue(request, signer, profile, overrides(o), w);
        check_issued(issued.cert, &signer);
    }
    maybe_encrypt(o, issued);
    std::cout << issued.to_json() << '\n';
    return cli::kExitOk;
}

int genkey(const Options& o, Warnings& w) {
    const auto request = read_request(arg(o, 0), w);
    if (!o.initca) reject_ca_section(request, arg(o, 0));
    std::optional<pki::CheckWarmup> warmup;  // only a CA is checked here
    if (o.initca) warmup.emplace(request.key);
    auto issued = o.initca ? pki::init_ca(request, w) : pki::generate_key(request, w);
    if (o.initca) check_issued(issued.cert, nullptr);
    maybe_encrypt(o, issued);
    std::cout << issued.to_json() << '\n';
    return cli::kExitOk;
}

int sign(const Options& o, Warnings& w) {
    // cfssl: -csr takes precedence over the first argument; SUBJECT follows.
    std::vector<std::string> rest = o.args;
    std::string csr_arg = o.csr;
    if (csr_arg.empty()) {
        if (rest.empty()) throw Error(Code::Usage, "need a PEM certificate request: sign [flags] CSR [SUBJECT]");
        csr_arg = rest.front();
        rest.erase(rest.begin());
    }
    if (rest.size() > 1) throw Error(Code::Usage, "too many arguments: sign [flags] CSR [SUBJECT]");
    pki::Overrides over = overrides(o);
    if (!rest.empty()) {
        // SUBJECT is cfssl's signer.Subject: {"CN":..,"names":[..],"serialnumber":..}; each field
        // it sets replaces the request's. SANs come from the request or -hostname, never from here.
        const auto subject = pki::parse_certificate_request(read_file(rest[0]), rest[0], w);
        if (!subject.hosts.empty())
            throw Error(Code::InputInvalidValue,
                        located(rest[0], "hosts: a SUBJECT file sets the subject only; give SANs with -hostname"));
        if (!subject.cn.empty()) over.cn = subject.cn;
        if (!subject.names.empty()) over.names = subject.names;
        if (!subject.serialnumber.empty()) over.serialnumber = subject.serialnumber;
    }
    const std::string csr_pem = read_input(csr_arg);
    const auto policy = read_policy(o, w);
    const auto& profile = policy.profile(o.profile, o.strict, w);
    const auto signer = load_signer(o);
    const pki::CheckWarmup warmup(signer.key().describe());
    pki::Issued issued;
    issued.cert = pki::sign_csr(csr_pem, source_name(csr_arg), signer, profile, over, w);
    check_issued(issued.cert, &signer);
    issued.csr = csr_pem;
    std::cout << issued.to_json() << '\n';
    return cli::kExitOk;
}

int certinfo(const Options& o, Warnings&) {
    if (!o.domain.empty())
        throw Error(Code::Usage,
                    "-domain is not supported: certgen never uses the network; save the certificate "
                    "and use -cert FILE");
    if (!o.args.empty()) throw Error(Code::Usage, "certinfo takes no arguments: use -cert FILE or -csr FILE");
    nlohmann::json info;
    if (!o.cert.empty()) {
        info = pki::certificate_info(pki::Certificate::from_pem(read_input(o.cert), source_name(o.cert)));
    } else if (!o.csr.empty()) {
        info = pki::csr_info(pki::Csr::from_pem(read_input(o.csr), source_name(o.csr)));
    } else {
        throw Error(Code::Usage, "certinfo needs -cert FILE or -csr FILE");
    }
    std::cout << info.dump(2) << '\n';
    return cli::kExitOk;
}

int selfsign(const Options& o, Warnings& w) {
    auto request = read_request(arg(o, 1), w);
    request.hosts = pki::split_hostnames(arg(o, 0));
    // cfssl uses a named profile of -config if there is one, else its default
    // profile shortened to 2190h (never the config's own default).
    pki::Profile profile = pki::default_signing_policy().default_profile;
    profile.expiry = std::chrono::hours(2190);
    if (!o.config.empty() && !o.profile.empty()) profile = read_policy(o, w).profile(o.profile, o.strict, w);
    auto issued = pki::self_sign(request, profile, w);
    check_issued(issued.cert, nullptr);
    maybe_encrypt(o, issued);
    std::cerr << "*** WARNING ***\n\nSelf-signed certificates are dangerous. Use this self-signed\n"
                 "certificate at your own risk.\n\nIt is strongly recommended that these certificates NOT be used\n"
                 "in production.\n\n*** WARNING ***\n\n";
    std::cout << issued.to_json() << '\n';
    return cli::kExitOk;
}

std::vector<std::string> read_serials(const std::string& arg) {
    std::vector<std::string> serials;
    const std::string text = read_input(arg);
    size_t line_no = 0;
    for (size_t pos = 0; pos <= text.size();) {
        const size_t end = std::min(text.find('\n', pos), text.size());
        const std::string line(trim(std::string_view(text).substr(pos, end - pos)));
        pos = end + 1;
        ++line_no;
        if (line.empty()) continue;
        // cfssl turns a bad line into serial 0 silently; we name it.
        if (line.find_first_not_of("0123456789") != std::string::npos)
            throw Error(Code::InputInvalidValue, located(source_name(arg) + ":" + std::to_string(line_no),
                                                         "'" + line + "' is not a decimal serial number"));
        serials.push_back(line);
    }
    return serials;
}

int gencrl(const Options& o, Warnings&) {
    const auto serials = read_serials(arg(o, 0));
    auto pass = passphrase(o.ca_key_passphrase_file, o.ca_key_passphrase_env, "ca-key");
    if (!pass) {
        // cfssl gencrl reads the CA key's password from here.
        if (const char* env = std::getenv("CFSSL_CA_PK_PASSWORD"); env != nullptr && *env != '\0') pass = env;
    }
    const pki::Signer signer(pki::Certificate::from_pem(read_input(arg(o, 1)), source_name(arg(o, 1))),
                             pki::PrivateKey::from_pem(read_input(arg(o, 2)), source_name(arg(o, 2)), pass));
    pki::Duration expiry = std::chrono::hours(24 * 7);  // cfssl: one week when TIME is absent or 0
    if (o.args.size() > 3) {
        const std::string text = strip_newline(arg(o, 3) == "-" ? read_input("-") : arg(o, 3));
        long long seconds = -1;
        try {
            size_t used = 0;
            seconds = std::stoll(text, &used);
            if (used != text.size()) seconds = -1;
        } catch (const std::exception&) {
        }
        if (seconds < 0) throw Error(Code::InputInvalidValue, "TIME: '" + text + "' is not a number of seconds");
        if (seconds > 0) expiry = pki::Duration(seconds);
    }
    std::cout << pki::generate_crl(serials, signer, expiry) << '\n';
    return cli::kExitOk;
}

int print_defaults(const Options& o, Warnings&) {
    const std::string& what = arg(o, 0);
    std::string text;
    if (what == "csr") {
        text = pki::default_certificate_request_json();
    } else if (what == "config") {
        text = pki::default_signing_policy_json();
    } else if (what == "list") {
        text = "Default configurations are available for:\n\tconfig\n\tcsr";
    } else {
        throw Error(Code::Usage, "print-defaults: unknown TYPE '" + what + "'; use csr, config or list");
    }
    std::cout << text << (text.ends_with('\n') ? "" : "\n");
    return cli::kExitOk;
}

int version(const Options& o, Warnings&) {
    std::cout << cli::version_text("certgen", cli::format_of(o.format));
    return cli::kExitOk;
}

// ---- the command table -----------------------------------------------------

struct Command {
    std::string_view name;
    std::string_view summary;
    std::string_view arguments;  // positional names for the usage line
    size_t min_args, max_args;
    std::vector<std::string_view> flags;
    std::string_view examples;
    int (*main)(const Options&, Warnings&);
};

const std::vector<Command>& commands() {
    static const std::vector<Command> table{
        {"gencert",
         "generate a new key and a certificate signed by a CA (or a new CA with -initca)",
         "CSRJSON",
         1,
         1,
         {"initca", "ca", "ca-key", "ca-key-passphrase-file", "ca-key-passphrase-env", "config", "profile", "hostname",
          "cn", "strict", "key-passphrase-file", "key-passphrase-env"},
         R"(Arguments:
  CSRJSON   JSON file with the request (cfssl's CSR JSON), '-' for stdin

Examples:
  # a new CA: ca.pem, ca-key.pem, ca.csr
  echo '{"CN":"CA","key":{"algo":"rsa","size":2048}}' | certgen gencert -initca - | certgen-json -bare ca

  # a peer certificate signed by that CA, with IP and DNS SANs
  echo '{"CN":"backend-1","hosts":[""],"key":{"algo":"rsa","size":2048}}' | \
    certgen gencert -config=ca-config.json -ca=ca.pem -ca-key=ca-key.pem \
      -hostname="10.0.0.1,backend-1,127.0.0.1,::" -profile=peer - | certgen-json -bare backend-1

  # CA key encrypted at rest; the new key encrypted too
  certgen gencert -ca ca.pem -ca-key ca-key.pem -ca-key-passphrase-env CA_PASS \
    -key-passphrase-file node.pass node.json | certgen-json -bare node

Prints {"cert":..,"csr":..,"key":..} on one line; warnings go to stderr.)",
         gencert},
        {"genkey",
         "generate a new key and CSR (or a new CA with -initca)",
         "CSRJSON",
         1,
         1,
         {"initca", "config", "key-passphrase-file", "key-passphrase-env"},
         R"(Arguments:
  CSRJSON   JSON file with the request, '-' for stdin

Examples:
  certgen print-defaults csr > req.json && certgen genkey req.json | certgen-json -bare web
  certgen genkey -initca ca-csr.json | certgen-json -bare ca)",
         genkey},
        {"sign",
         "sign a PEM certificate request with a CA",
         "CSR [SUBJECT]",
         0,
         2,
         {"ca", "ca-key", "ca-key-passphrase-file", "ca-key-passphrase-env", "config", "profile", "hostname", "csr",
          "strict"},
         R"(Arguments:
  CSR       PEM certificate request, '-' for stdin (or give -csr FILE)
  SUBJECT   optional JSON file ({"CN":..,"names":[..]}) whose fields replace the request's

Examples:
  certgen sign -ca ca.pem -ca-key ca-key.pem -config ca-config.json -profile server \
    -hostname 10.0.0.1,web web.csr | certgen-json -bare web)",
         sign},
        {"certinfo",
         "print a certificate or CSR as cfssl's JSON",
         "",
         0,
         0,
         {"cert", "csr", "domain"},
         R"(Examples:
  certgen certinfo -cert backend-1.pem
  certgen certinfo -csr backend-1.csr
  cat ca.pem | certgen certinfo -cert -)",
         certinfo},
        {"selfsign",
         "generate a new key and a self-signed (non-CA) certificate; for tests only",
         "HOSTNAME CSRJSON",
         2,
         2,
         {"config", "profile", "strict", "key-passphrase-file", "key-passphrase-env"},
         R"(Arguments:
  HOSTNAME  comma-separated SANs of the certificate
  CSRJSON   JSON file with the request, '-' for stdin

Examples:
  certgen selfsign 127.0.0.1,localhost req.json | certgen-json -bare test)",
         selfsign},
        {"gencrl",
         "generate a CRL revoking the given serial numbers",
         "SERIALS CERT KEY [TIME]",
         3,
         4,
         {"ca-key-passphrase-file", "ca-key-passphrase-env"},
         R"(Arguments:
  SERIALS   text file with one decimal serial number per line, '-' for stdin
  CERT      the CA certificate that signs the CRL
  KEY       the CA's private key
  TIME      validity in seconds from now (default: one week)

Examples:
  certgen certinfo -cert backend-2.pem | grep serial_number   # the serial to revoke
  certgen gencrl revoked.txt ca.pem ca-key.pem 86400 | base64 -d > ca.crl
Prints the CRL as base64 DER on one line, as cfssl does.)",
         gencrl},
        {"print-defaults",
         "print a default CSR JSON or ca-config.json to start from",
         "TYPE",
         1,
         1,
         {},
         R"(Arguments:
  TYPE      csr, config or list

Examples:
  certgen print-defaults config > ca-config.json   # default plus peer, server and client profiles
  certgen print-defaults csr > backend-1.json)",
         print_defaults},
        {"version",
         "print the version (--format json: as JSON)",
         "",
         0,
         0,
         {},
         "Examples:\n  certgen version\n  certgen version -format json",
         version},
    };
    return table;
}

constexpr std::string_view kFooter = R"(Examples:
  certgen gencert -initca ca-csr.json | certgen-json -bare ca
  certgen gencert -ca ca.pem -ca-key ca-key.pem -config ca-config.json -profile peer node.json | certgen-json -bare node
  certgen <command> --help     # flags, arguments and examples of one command

Flags are cfssl's: -ca=x, -ca x and --ca=x all work.
Errors: certgen: error: MESSAGE (code N) on stderr, or with -format json one {"code":N,"message":"..."}
line on stdout; exit 1, or 2 for a wrong command line (docs/certgen.md, docs/exit-codes.md).)";

int run_certgen(int argc, char** argv, Warnings& warnings) {
    Options o;
    CLI::App app{"certgen -- cfssl-compatible certificate generator (drop-in for cfssl's commands)", "certgen"};
    app.footer(std::string(kFooter));
    app.require_subcommand(1);
    cli::add_format_option(app, o.format, "text, or json: the version and errors as JSON on stdout");
    std::vector<std::pair<CLI::App*, const Command*>> subs;
    for (const auto& c : commands()) {
        CLI::App* sub = app.add_subcommand(std::string(c.name), std::string(c.summary));
        for (const auto name : c.flags) {
            const auto& f = *std::find_if(kFlags.begin(), kFlags.end(), [&](const Flag& x) { return x.name == name; });
            const std::string spelt = "--" + std::string(f.name);
            if (const auto* b = std::get_if<bool Options::*>(&f.field))
                sub->add_flag(spelt, o.**b, std::string(f.help));
            else
                sub->add_option(spelt, o.*std::get<std::string Options::*>(f.field), std::string(f.help));
        }
        if (c.max_args > 0) sub->add_option("ARGS", o.args, std::string(c.arguments));
        sub->footer(std::string(c.examples));
        subs.emplace_back(sub, &c);
    }
    if (certgen::parse_command_line(app, flag_names(), argc, argv)) return cli::kExitOk;
    cli::format_of(o.format);  // a wrong --format is a usage error before any work
    for (const auto& [sub, command] : subs) {
        if (!sub->parsed()) continue;
        if (o.args.size() < command->min_args || o.args.size() > command->max_args)
            throw Error(Code::Usage, "usage: certgen " + std::string(command->name) + " [flags] " +
                                         std::string(command->arguments) + "; see certgen " +
                                         std::string(command->name) + " --help");
        return command->main(o, warnings);
    }
    throw Error(Code::Internal, "no command was selected");  // CLI11 requires one
}

}  // namespace

int main(int argc, char** argv) {
    pki::skip_openssl_cleanup_at_exit();
    return cli::run("certgen", argc, argv, [&] {
        // Warnings go to stderr, never stdout; those gathered before a failure still
        // explain it, so they are printed while unwinding, before the error line.
        Warnings warnings;
        struct Flush {
            Warnings& w;
            ~Flush() { cli::print_warnings("certgen", w); }
        } flush{warnings};
        return run_certgen(argc, argv, warnings);
    });
}
