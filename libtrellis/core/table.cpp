#include "core/table.hpp"

#include <algorithm>

namespace trellis {
namespace {

constexpr std::string_view kRule = "\u2500";  // ─, as sensuctl draws its header rule

std::string repeat(std::string_view piece, std::size_t n) {
    std::string out;
    out.reserve(piece.size() * n);
    for (std::size_t i = 0; i < n; ++i) out.append(piece);
    return out;
}

void trim_right(std::string& line) {
    while (!line.empty() && line.back() == ' ') line.pop_back();
}

}  // namespace

std::size_t display_width(const std::string& text) {
    // Count bytes that start a code point (everything but UTF-8 continuation bytes).
    return static_cast<std::size_t>(
        std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string render_table(const std::vector<std::string>& headers, const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> widths;
    for (const auto& h : headers) widths.push_back(display_width(h));
    for (const auto& row : rows)
        for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i)
            widths[i] = std::max(widths[i], display_width(row[i]));

    // Each cell is " text " padded to its column; cells are joined by one space after a leading space,
    // which is how sensuctl's table library lays out a borderless table.
    std::string out;
    std::string line = " ";
    for (std::size_t i = 0; i < headers.size(); ++i) {
        const std::size_t pad = widths[i] - display_width(headers[i]);
        const std::size_t left = pad / 2;
        line += ' ' + std::string(left, ' ') + headers[i] + std::string(pad - left, ' ') + ' ';
        if (i + 1 < headers.size()) line += ' ';
    }
    trim_right(line);
    out += line + '\n';

    line = " ";
    for (std::size_t i = 0; i < widths.size(); ++i) {
        line += repeat(kRule, widths[i] + 2);
        if (i + 1 < widths.size()) line += ' ';
    }
    out += line + '\n';

    for (const auto& row : rows) {
        line = " ";
        for (std::size_t i = 0; i < widths.size(); ++i) {
            const std::string cell = i < row.size() ? row[i] : std::string();
            line += ' ' + cell + std::string(widths[i] - display_width(cell), ' ') + ' ';
            if (i + 1 < widths.size()) line += ' ';
        }
        trim_right(line);
        out += line + '\n';
    }
    return out;
}

}  // namespace trellis
