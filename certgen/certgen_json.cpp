// certgen-json: cfssljson's drop-in. Splits the JSON that certgen (or cfssl)
// prints into PREFIX.pem, PREFIX-key.pem, PREFIX.csr, ... written as one
// all-or-nothing set, keys 0600 and everything else 0644 whatever the umask.
#include <CLI/CLI.hpp>

#include <array>
#include <filesystem>
#include <iostream>

#include "args.hpp"
#include "cli/app.hpp"
#include "core/cli.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/text.hpp"
#include "response.hpp"

namespace {

using namespace trellis;

constexpr std::array<certgen::FlagName, 7> kFlags{{
    {"bare", certgen::FlagKind::Bool},
    {"f", certgen::FlagKind::Value},
    {"stdout", certgen::FlagKind::Bool},
    {"overwrite", certgen::FlagKind::Bool},
    {"version", certgen::FlagKind::Bool},
    {"help", certgen::FlagKind::Bool},
    {"format", certgen::FlagKind::Value},
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
`certgen-json version` (the only argument) or -version prints the version.
Errors: certgen-json: error: MESSAGE (code N) on stderr, or with -format json one
{"code":N,"message":"..."} line on stdout; exit 1, or 2 for a wrong command line.)";

struct Options {
    bool bare = false, to_stdout = false, overwrite = false, version = false;
    std::string input = "-";
    std::string format = "text";
    std::vector<std::string> positional;
};

int split(const Options& o) {
    // `version` alone is the version subcommand every tool has (a prefix "version" needs other arguments).
    if (o.version || o.positional == std::vector<std::string>{"version"}) {
        std::cout << cli::version_text("certgen-json", cli::format_of(o.format));
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
        for (const auto& f : files) std::cout << (f.binary ? trellis::base64_encode(f.contents) : f.contents) << '\n';
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
    return cli::run("certgen-json", argc, argv, [&]() -> int {
        Options o;
        CLI::App app{"certgen-json -- split certgen/cfssl JSON output into PEM files (cfssljson drop-in)",
                     "certgen-json"};
        app.add_flag("--bare", o.bare,
                     "the input is the bare JSON (certgen/cfssl gencert output), not an API response");
        app.add_option("-f", o.input, "JSON input file, '-' for stdin")->capture_default_str();
        app.add_flag("--stdout", o.to_stdout, "print the contents instead of writing files");
        app.add_flag("--overwrite", o.overwrite, "replace existing files whose content differs");
        app.add_flag("--version", o.version, "print the version and exit (also: certgen-json version)");
        cli::add_format_option(app, o.format, "text, or json: the version and errors as JSON on stdout");
        app.add_option("PREFIX", o.positional, "file name prefix (default \"cert\"); a trailing '-' is ignored");
        app.footer(std::string(kExamples));
        if (certgen::parse_command_line(app, kFlags, argc, argv)) return cli::kExitOk;
        cli::format_of(o.format);  // a wrong --format is a usage error before any work
        return split(o);
    });
}
