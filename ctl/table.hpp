// A plain-text table in the shape sensuctl prints (centred headers, a rule of
// box-drawing dashes per column, left-aligned cells), with columns as data so
// every command describes its table instead of formatting it by hand.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace trellis::ctl {

// One column: its header and how to get the cell text from a row of type T.
template <typename T>
struct Column {
    std::string header;
    std::function<std::string(const T&)> cell;
};

// Renders header, rule and one line per row; trailing spaces are trimmed so
// the output diffs and greps cleanly. Widths are counted in code points, not bytes.
std::string render_table(const std::vector<std::string>& headers, const std::vector<std::vector<std::string>>& rows);

template <typename T>
std::string render_table(const std::vector<Column<T>>& columns, const std::vector<T>& rows) {
    std::vector<std::string> headers;
    for (const auto& c : columns) headers.push_back(c.header);
    std::vector<std::vector<std::string>> cells;
    for (const auto& row : rows) {
        auto& line = cells.emplace_back();
        for (const auto& c : columns) line.push_back(c.cell(row));
    }
    return render_table(headers, cells);
}

// Number of code points in UTF-8 text (what a terminal shows as width for our ASCII and box-drawing cells).
std::size_t display_width(const std::string& text);

}  // namespace trellis::ctl
