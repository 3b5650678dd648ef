// Go-flag-style command lines for CLI11: cfssl accepts `-ca=x`, `-ca x`, `--ca=x`
// and `-initca`; CLI11 only knows `--ca`. normalize_args rewrites the known long
// flags (a table, shared with the option definitions) before CLI11 parses.
#pragma once

#include <CLI/CLI.hpp>

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace trellis::certgen {

enum class FlagKind { Bool, Value };

struct FlagName {
    std::string_view name;  // without dashes: "ca-key", "f"
    FlagKind kind;
};

// Rewrites `args` (without argv[0]) so that every flag of `table` is spelt as
// CLI11 expects: "--name" (or "-n" for one-letter names). A value given as
// "-name=value" becomes two arguments, so an empty value ("-hostname=") stays
// empty instead of swallowing the next argument. Arguments after "--" and the
// values of value flags are left alone. A single-dash word that is no known
// flag is Code::Usage, naming the closest known flag.
std::vector<std::string> normalize_args(std::span<const FlagName> table, const std::vector<std::string>& args);

// Normalizes argv and parses it with `app` as every tool does (cli::parse): true when --help was asked
// for (and printed); a parse error is Code::Usage naming the closest flag or command.
bool parse_command_line(CLI::App& app, std::span<const FlagName> table, int argc, char** argv);

}  // namespace trellis::certgen
