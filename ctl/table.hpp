// trellisctl's tables (core/table.hpp draws them), with columns as data so every command
// describes its table instead of formatting it by hand.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/table.hpp"

namespace trellis::ctl {

// One column: its header and how to get the cell text from a row of type T.
template <typename T>
struct Column {
    std::string header;
    std::function<std::string(const T&)> cell;
};

using trellis::display_width;
using trellis::render_table;

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

}  // namespace trellis::ctl
