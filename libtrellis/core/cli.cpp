#include "core/cli.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <streambuf>
#include <vector>

#include <nlohmann/json.hpp>

#ifndef TRELLIS_VERSION
#define TRELLIS_VERSION "unknown"
#endif

namespace trellis::cli {

int exit_code_for(const Error& e) {
    switch (e.code()) {
        case Code::Usage:
            return kExitUsage;
        case Code::ConnectFailed:
        case Code::TlsFailed:
        case Code::Forbidden:  // the certificate is not allowed: a credentials problem like a refused handshake
            return kExitConnection;
        case Code::MemberRemoved:
            return kExitRemoved;
        case Code::CertRenewalDue:
            return kExitRenewalDue;
        default:
            return kExitFailure;
    }
}

Format requested_format(std::span<const std::string> args) {
    Format format = Format::Text;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--") break;
        if (a == "--json") format = Format::Json;
        const bool flag = a == "--format" || a == "-format";
        if (flag && i + 1 < args.size()) format = args[++i] == "json" ? Format::Json : Format::Text;
        if (a.starts_with("--format=") || a.starts_with("-format="))
            format = a.substr(a.find('=') + 1) == "json" ? Format::Json : Format::Text;
    }
    return format;
}

std::string error_line(std::string_view tool, const Error& e) {
    return std::string(tool) + ": error: " + e.what() + " (code " + std::to_string(e.number()) + ")";
}

void print_error(std::string_view tool, const Error& e, Format format, std::ostream& out, std::ostream& err) {
    if (format == Format::Json)
        out << e.to_json() << std::endl;
    else
        err << error_line(tool, e) << '\n';
}

namespace {

// Counts what passes through to std::cout's own buffer while a tool runs.
class CountingBuffer : public std::streambuf {
  public:
    explicit CountingBuffer(std::streambuf* target) : target_(target) {}
    size_t written() const { return written_; }

  protected:
    int_type overflow(int_type c) override {
        if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
        ++written_;
        return target_->sputc(traits_type::to_char_type(c));
    }
    std::streamsize xsputn(const char* s, std::streamsize n) override {
        written_ += static_cast<size_t>(n);
        return target_->sputn(s, n);
    }
    int sync() override { return target_->pubsync(); }

  private:
    std::streambuf* target_;
    size_t written_ = 0;
};

// std::cout goes through a CountingBuffer for the object's lifetime.
struct CountStdout {
    CountingBuffer buffer{std::cout.rdbuf()};
    std::streambuf* saved = std::cout.rdbuf(&buffer);
    ~CountStdout() { std::cout.rdbuf(saved); }
};

}  // namespace

int run(std::string_view tool, Format format, const std::function<int()>& body) {
    CountStdout out;
    auto report = [&](const Error& e) {
        // stdout holds one JSON document: once the result is there (lint's findings, an unhealthy
        // cluster's health), the error that says it failed goes to stderr as the text line.
        const bool result_printed = out.buffer.written() > 0;
        print_error(tool, e, result_printed ? Format::Text : format, std::cout, std::cerr);
        return exit_code_for(e);
    };
    try {
        return body();
    } catch (const Error& e) {
        return report(e);
    } catch (const std::bad_alloc&) {
        return report(Error(Code::Internal, "out of memory"));
    } catch (const std::exception& e) {
        return report(Error(Code::Internal, std::string("unexpected internal error: ") + e.what() +
                                                " (please report this with the command you ran)"));
    }
}

namespace {

// Botan's first secure allocation maps, mlocks and guards a pool page by page: 2.5 ms of system calls
// in every process (a third of a `certgen gencert`). Botan here checks public certificates and makes
// RSA keys that are handed to OpenSSL and written out at once, so locking its copy protects nothing;
// its allocator still wipes what it frees. An operator's own setting wins. Done before any thread exists.
void skip_botan_locked_pool() { setenv("BOTAN_MLOCK_POOL_SIZE", "0", /*overwrite=*/0); }

}  // namespace

int run(std::string_view tool, int argc, char** argv, const std::function<int()>& body) {
    skip_botan_locked_pool();
    const std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
    return run(tool, requested_format(args), body);
}

std::string_view version() { return TRELLIS_VERSION; }

std::string version_text(std::string_view tool, Format format) {
    if (format == Format::Json) return nlohmann::json{{"tool", tool}, {"version", version()}}.dump() + "\n";
    return std::string(tool) + " version " + std::string(version()) + "\n";
}

void print_warnings(std::string_view tool, const Warnings& warnings) {
    for (const auto& w : warnings) std::cerr << tool << ": warning: " << w << '\n';
}

std::string progress_line(std::string_view tool, std::string_view what, size_t done, size_t total,
                          std::chrono::duration<double> elapsed) {
    const double rate = elapsed.count() > 0 ? static_cast<double>(done) / elapsed.count() : 0.0;
    char rate_text[32];
    std::snprintf(rate_text, sizeof rate_text, "%.1f/s", rate);
    return std::string(tool) + ": " + std::string(what) + " " + std::to_string(done) + "/" + std::to_string(total) +
           " (" + rate_text + ")";
}

namespace {

// TRELLIS_PROGRESS_INTERVAL: seconds between progress lines off a terminal (default 5, 0 = none).
std::chrono::duration<double> interval_from_environment() {
    const char* text = std::getenv("TRELLIS_PROGRESS_INTERVAL");
    if (text == nullptr || *text == '\0') return std::chrono::seconds(5);
    char* end = nullptr;
    const double seconds = std::strtod(text, &end);
    if (end == text || *end != '\0' || !(seconds >= 0) || seconds > 86400) return std::chrono::seconds(5);
    return std::chrono::duration<double>(seconds);
}

}  // namespace

Progress::Progress(std::string_view tool, std::string_view what, std::ostream& out, bool terminal,
                   std::chrono::duration<double> interval)
    : tool_(tool), what_(what), out_(out), terminal_(terminal), interval_(interval) {}

Progress::Progress(std::string_view tool, std::string_view what)
    : Progress(tool, what, std::cerr, ::isatty(STDERR_FILENO) == 1, interval_from_environment()) {}

void Progress::operator()(size_t done, size_t total) {
    done_ = done;
    total_ = total;
    const auto now = std::chrono::steady_clock::now();
    if (terminal_) {
        if (now - start_ < std::chrono::seconds(1)) return;
        out_ << '\r' << progress_line(tool_, what_, done, total, now - start_) << std::flush;
        shown_ = true;
        return;
    }
    if (interval_.count() <= 0 || now - last_ < interval_) return;
    last_ = now;
    out_ << progress_line(tool_, what_, done, total, now - start_) << std::endl;
    shown_ = true;
}

Progress::~Progress() {
    if (!shown_) return;
    if (!terminal_) out_ << progress_line(tool_, what_, done_, total_, std::chrono::steady_clock::now() - start_);
    out_ << std::endl;
}

}  // namespace trellis::cli
