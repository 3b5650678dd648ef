// Test certificates made with the openssl CLI (a real peer, independent of our pki
// code): a CA, leaves with chosen IP SANs and EKUs, so store and backend tests can
// run mTLS etcd and API servers, including the wrong-CA and wrong-EKU cases.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace trellis::testing {

struct TestCa {
    std::filesystem::path cert;
    std::filesystem::path key;
};

struct TestPair {
    std::filesystem::path cert;
    std::filesystem::path key;
};

// A self-signed ECDSA P-256 CA "<name>.pem"/"<name>-key.pem" in `dir`.
TestCa make_test_ca(const std::filesystem::path& dir, const std::string& name);

// A leaf signed by `ca`: "<name>.pem"/"<name>-key.pem" in `dir`, with IP SANs `ips`
// and extendedKeyUsage `eku` ("serverAuth,clientAuth", "clientAuth", "serverAuth"); subject CN=name, plus
// O=organization when given (the role the backend API authorizes by: "admin").
TestPair issue_test_cert(const TestCa& ca, const std::filesystem::path& dir, const std::string& name,
                         const std::vector<std::string>& ips, const std::string& eku,
                         const std::string& organization = "");

// Like issue_test_cert, but valid only from `not_before` ("20300101000000Z") for a year: a certificate that
// is not valid yet (openssl 3.0's x509 cannot set the start date, so this goes through `openssl ca`).
TestPair issue_future_test_cert(const TestCa& ca, const std::filesystem::path& dir, const std::string& name,
                                const std::string& eku, const std::string& not_before);

}  // namespace trellis::testing
