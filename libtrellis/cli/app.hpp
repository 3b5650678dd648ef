// The command-line convention every Trellis tool follows, on top of CLI11 (which stays the parser):
// a `version` subcommand and a global `--format text|json`; every subcommand's --help also lists the
// global flags; a command line CLI11 refuses becomes one Code::Usage error that names the unknown
// flag or command and the closest known one ("did you mean"), instead of CLI11's raw text. Errors
// themselves are printed by core/cli.hpp's run(). docs/exit-codes.md describes the convention.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "core/cli.hpp"

namespace trellis::cli {

// The global `--format text|json` (given before or after the command). `help` says what JSON means here.
CLI::Option* add_format_option(CLI::App& app, std::string& format, const std::string& help);
// The --format value as a Format; anything but text or json is Code::Usage.
Format format_of(const std::string& format);

// The `version` subcommand; when it was given, print version_text(tool, format).
CLI::App* add_version_command(CLI::App& app);

// Parses `args` (without argv[0]) with `app`. Returns true when --help was asked for and printed (the
// selected command's help with the global flags); a refused command line throws Code::Usage with
// usage_message(). Global flags may follow a command (fallthrough is turned on for every command).
bool parse(CLI::App& app, std::vector<std::string> args);
bool parse(CLI::App& app, int argc, char** argv);

// What is wrong with `args`, which `app` refused with `error`: an unknown flag or command with the
// closest known one, a missing command with the choices, or CLI11's complaint, each ending with the
// `--help` to read ("unknown flag --ot (did you mean --out?); see cluster-config provision --help").
std::string usage_message(const CLI::App& app, const std::vector<std::string>& args, const CLI::ParseError& error);

}  // namespace trellis::cli
