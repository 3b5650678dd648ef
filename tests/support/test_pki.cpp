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
                         const std::vector<std::string>& ips, const std::string& eku, const std::string& organization) {
    TestPair pair{dir / (name + ".pem"), dir / (name + "-key.pem")};
    const fs::path csr = dir / (name + ".csr");
    const fs::path ext = dir / (name + ".ext");
    std::string san;
    for (const auto& ip : ips) san += (san.empty() ? "" : ",") + std::string("IP:") + ip;
    spit(ext,
         "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
         "extendedKeyUsage=" +
             eku + "\n" + (san.empty() ? "" : "subjectAltName=" + san + "\n"));
    const std::string subject = "/CN=" + name + (organization.empty() ? "" : "/O=" + organization);
    openssl({"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", subject,
             "-keyout", pair.key.string(), "-out", csr.string()});
    openssl({"x509", "-req", "-sha256", "-days", "365", "-in", csr.string(), "-CA", ca.cert.string(), "-CAkey",
             ca.key.string(), "-set_serial", std::to_string(std::hash<std::string>{}(name + dir.string()) >> 2),
             "-extfile", ext.string(), "-out", pair.cert.string()});
    fs::permissions(pair.key, fs::perms::owner_read | fs::perms::owner_write);
    return pair;
}

TestPair issue_future_test_cert(const TestCa& ca, const fs::path& dir, const std::string& name, const std::string& eku,
                                const std::string& not_before) {
    TestPair pair{dir / (name + ".pem"), dir / (name + "-key.pem")};
    const fs::path csr = dir / (name + ".csr"), ext = dir / (name + ".ext"), conf = dir / (name + ".cnf");
    const fs::path db = dir / (name + ".index"), serial = dir / (name + ".serial");
    spit(ext,
         "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
         "extendedKeyUsage=" +
             eku + "\n");
    spit(db, "");
    spit(serial, "1000\n");
    spit(conf, "[ca]\ndefault_ca = d\n[d]\ndatabase = " + db.string() + "\nnew_certs_dir = " + dir.string() +
                   "\nserial = " + serial.string() +
                   "\ndefault_md = sha256\npolicy = p\nunique_subject = no\n[p]\ncommonName = supplied\n");
    openssl({"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=" + name,
             "-keyout", pair.key.string(), "-out", csr.string()});
    const std::string not_after = std::to_string(std::stoi(not_before.substr(0, 4)) + 1) + not_before.substr(4);
    openssl({"ca", "-batch", "-notext", "-config", conf.string(), "-cert", ca.cert.string(), "-keyfile",
             ca.key.string(), "-in", csr.string(), "-out", pair.cert.string(), "-startdate", not_before, "-enddate",
             not_after, "-extfile", ext.string()});
    fs::permissions(pair.key, fs::perms::owner_read | fs::perms::owner_write);
    return pair;
}

}  // namespace trellis::testing
