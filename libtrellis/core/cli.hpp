// The shared shell of every Trellis command-line tool: turns errors into the
// documented exit codes and one-line messages, so no exception ever reaches
// the user as a stack trace. The parser side of the convention (version
// subcommand, "did you mean", global flags in help) is libtrellis/cli/app.hpp.
#pragma once

#include <chrono>
#include <functional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace trellis::cli {

// Exit codes every tool shares; documented in docs/exit-codes.md.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;     // the work failed (bad input, cluster error, findings)
inline constexpr int kExitUsage = 2;       // the command line itself is wrong
inline constexpr int kExitConnection = 3;  // could not reach, authenticate to or be authorized by a server
inline constexpr int kExitRemoved = 4;     // trellis-backend: this member was removed from the cluster
inline constexpr int kExitPending = 5;     // cluster-config --check/--diff: changes are pending (none: 0)
inline constexpr int kExitRenewalDue = 6;  // check-expiration: a certificate is inside the window or expired

// What a tool prints its results, version and errors as: text (errors as "TOOL: error: MESSAGE (code N)"
// on stderr) or JSON (errors as {"code":N,"message":"..."} on stdout).
enum class Format { Text, Json };

// The format a command line asks for, read before parsing so that even a usage error obeys it:
// `--format json`, `--format=json`, cfssl-style `-format json`, or cluster-config's `--json`.
// Arguments after "--" are not looked at.
Format requested_format(std::span<const std::string> args);

// Runs `body`, mapping trellis::Error to its exit code (Usage -> 2, Connect/Tls -> 3, MemberRemoved -> 4,
// CertRenewalDue -> 6,
// others -> 1) and printing it in the format the command line asks for; unexpected exceptions become
// Code::Internal. With Format::Json stdout holds one JSON document: the error object only if `body`
// printed nothing there (when it printed its result, say lint's findings, the error is the text line on stderr).
int run(std::string_view tool, int argc, char** argv, const std::function<int()>& body);
int run(std::string_view tool, Format format, const std::function<int()>& body);

// Exit code for an error, per the table above.
int exit_code_for(const Error& e);

// "TOOL: error: MESSAGE (code N)", without the newline.
std::string error_line(std::string_view tool, const Error& e);
// Prints `e` as the convention says: the line on `err` (Text) or the JSON object on `out` (Json).
void print_error(std::string_view tool, const Error& e, Format format, std::ostream& out, std::ostream& err);

// The Trellis version every tool reports ("0.1.0").
std::string_view version();
// "TOOL version 0.1.0" or {"tool":"TOOL","version":"0.1.0"}, one line, with the newline.
std::string version_text(std::string_view tool, Format format);

void print_warnings(std::string_view tool, const Warnings& warnings);

// One progress line for long work: "TOOL: issuing certificates 120/400 (24.0/s)".
std::string progress_line(std::string_view tool, std::string_view what, size_t done, size_t total,
                          std::chrono::duration<double> elapsed);

// Progress of long work on stderr. On a terminal: one line rewritten in place once the work has
// taken more than a second. Off a terminal (Ansible, CI, a pipe): a whole line every `interval`
// (TRELLIS_PROGRESS_INTERVAL seconds, default 5; 0 turns them off), then a last line with the total.
class Progress {
  public:
    Progress(std::string_view tool, std::string_view what, std::ostream& out, bool terminal,
             std::chrono::duration<double> interval);
    // On stderr, a terminal or not as isatty says, the interval from the environment.
    Progress(std::string_view tool, std::string_view what);
    ~Progress();
    Progress(const Progress&) = delete;
    Progress& operator=(const Progress&) = delete;
    void operator()(size_t done, size_t total);

  private:
    std::string tool_, what_;
    std::ostream& out_;
    bool terminal_;
    std::chrono::duration<double> interval_;
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point last_ = start_;
    size_t done_ = 0, total_ = 0;
    bool shown_ = false;
};

}  // namespace trellis::cli
