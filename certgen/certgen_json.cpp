// certgen-json: cfssljson's drop-in. Splits the JSON that certgen (or cfssl)
// prints into PREFIX.pem, PREFIX-key.pem, PREFIX.csr, ... written as one
// all-or-nothing set, keys 0600 and everything else 0644 whatever the umask.
#include <CLI/CLI.hpp>

#include <array>
#include <filesystem>
#include <iostream>

#include "args.hpp"
#include "core/cli.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "response.hpp"

namespace {

using namespace trellis;

constexpr std::array<certgen::FlagName, 6> kFlags{{
    {"bare", certgen::FlagKind::Bool},
    {"f", certgen::FlagKind::Value},
    {"stdout", certgen::FlagKind::Bool},
    {"overwrite", certgen::FlagKind::Bool},
    {"version", certgen::FlagKind::Bool},
    {"help", certgen::FlagKind::Bool},
}};

constexpr std::string_view kExamples = R"(Examples:
  # split certgen's output into ca.pem, ca-key.pem and ca.csr
  certgen gencert -initca ca-csr.json | certgen-json -bare ca

  # the same from a saved response, printing the PEMs instead of writing files
  certgen-json -bare -f response.json -stdout

  # replace an earlier, different backend-1.pem / backend-1-key.pem / backend-1.csr
  certgen gencert ... - | certgen-json -bare -overwrite backend-1

Files: PREFIX.pem (cert, 0644), PREFIX-key.pem (key, 0600), PREFIX-key.enc (0600),
PREFIX.csr (0644), PREFIX-bundle.pem, PREFIX-root.pem, PREFIX-response.der, PREFIX.crl.
An existing file is replaced only if it is identical or -overwrite is given.
Errors: {"code":N,"message":"..."} on stderr, exit 1; a wrong command line exits 2.)";

struct Options {
    bool bare = false, to_stdout = false, overwrite = false, version = false;
    std::string input = "-";
    std::vector<std::string> positional;
};

int split(const Options& o) {
    if (o.version) {
        std::cout << "certgen-json " << TRELLIS_VERSION << " (cfssljson 1.2 compatible)\n";
        return cli::kExitOk;
    }
    // cfssljson reads one name; the guide ends with a "-" that Go ignores, and so do we.
    std::vector<std::string> names = o.positional;
    if (names.size() == 2 && names[1] == "-") names.pop_back();
    if (names.size() > 1)
        throw Error(Code::Usage, "expected at most one PREFIX, got '" + names[1] + "' too; see --help");
    const std::string prefix = names.empty() ? "cert" : names[0];
    if (prefix.empty() || prefix == "-") throw Error(Code::Usage, "PREFIX must name files, got '" + prefix + "'");

    const std::string source = o.input == "-" ? "<stdin>" : o.input;
    const auto files = certgen::files_from_response(read_input(o.input), o.bare, source, prefix);

    if (o.to_stdout) {
        for (const auto& f : files) std::cout << (f.binary ? certgen::base64_encode(f.contents) : f.contents) << '\n';
        return cli::kExitOk;
    }
    // cfssljson overwrites silently; we refuse to replace what the user had unless
    // asked, but re-running the same step (identical output) is not a conflict.
    if (!o.overwrite) {
        for (const auto& f : files) {
            std::error_code ec;
            if (!std::filesystem::exists(f.name, ec)) continue;
            if (std::filesystem::is_regular_file(f.name, ec) && read_file(f.name) == f.contents) continue;
            throw Error(Code::FileExists,
                        located(f.name,
                                "already exists with different content; pass -overwrite to replace it "
                                "(nothing was written)"));
        }
    }
    FileSet set;
    for (const auto& f : files) set.add(f.name, f.contents, f.mode);
    set.commit(/*overwrite=*/true);
    return cli::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
    return cli::run("certgen-json", cli::ErrorStyle::Json, [&]() -> int {
        Options o;
        CLI::App app{"certgen-json -- split certgen/cfssl JSON output into PEM files (cfssljson drop-in)",
                     "certgen-json"};
        app.add_flag("--bare", o.bare,
                     "the input is the bare JSON (certgen/cfssl gencert output), not an API response");
        app.add_option("-f", o.input, "JSON input file, '-' for stdin")->capture_default_str();
        app.add_flag("--stdout", o.to_stdout, "print the contents instead of writing files");
        app.add_flag("--overwrite", o.overwrite, "replace existing files whose content differs");
        app.add_flag("--version", o.version, "print the version and exit");
        app.add_option("PREFIX", o.positional, "file name prefix (default \"cert\"); a trailing '-' is ignored");
        app.footer(std::string(kExamples));
        if (certgen::parse_command_line(app, kFlags, argc, argv, "certgen-json")) return cli::kExitOk;
        return split(o);
    });
}
