#include "test_pki.hpp"

#include <stdexcept>

#include "support.hpp"

namespace fs = std::filesystem;

namespace trellis::testing {
namespace {

void openssl(const std::vector<std::string>& args) {
    std::vector<std::string> argv{"openssl"};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto r = run(argv, {}, {}, 30);
    if (r.exit_code != 0) throw std::runtime_error("openssl " + args.front() + " failed: " + r.err);
}

}  // namespace

TestCa make_test_ca(const fs::path& dir, const std::string& name) {
    TestCa ca{dir / (name + ".pem"), dir / (name + "-key.pem")};
    openssl({"req",      "-x509",
             "-newkey",  "ec",
             "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes",   "-sha256",
             "-days",    "3650",
             "-subj",    "/CN=" + name,
             "-keyout",  ca.key.string(),
             "-out",     ca.cert.string(),
             "-addext",  "basicConstraints=critical,CA:TRUE",
             "-addext",  "keyUsage=critical,keyCertSign,cRLSign"});
    fs::permissions(ca.key, fs::perms::owner_read | fs::perms::owner_write);
    return ca;
}

TestPair issue_test_cert(const TestCa& ca, const fs::path& dir, const std::string& name,
                         const std::vector<std::string>& ips, const std::string& eku) {
    TestPair pair{dir / (name + ".pem"), dir / (name + "-key.pem")};
    const fs::path csr = dir / (name + ".csr");
    const fs::path ext = dir / (name + ".ext");
    std::string san;
    for (const auto& ip : ips) san += (san.empty() ? "" : ",") + std::string("IP:") + ip;
    spit(ext,
         "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
         "extendedKeyUsage=" +
             eku + "\n" + (san.empty() ? "" : "subjectAltName=" + san + "\n"));
    openssl({"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=" + name,
             "-keyout", pair.key.string(), "-out", csr.string()});
    openssl({"x509", "-req", "-sha256", "-days", "365", "-in", csr.string(), "-CA", ca.cert.string(), "-CAkey",
             ca.key.string(), "-set_serial", std::to_string(std::hash<std::string>{}(name + dir.string()) >> 2),
             "-extfile", ext.string(), "-out", pair.cert.string()});
    fs::permissions(pair.key, fs::perms::owner_read | fs::perms::owner_write);
    return pair;
}

}  // namespace trellis::testing
