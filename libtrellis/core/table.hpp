// A plain-text table in the shape sensuctl prints (centred headers, a rule of box-drawing dashes per
// column, left-aligned cells): trellisctl's views and cluster-config check-expiration both print it.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace trellis {

// Renders header, rule and one line per row; trailing spaces are trimmed so
// the output diffs and greps cleanly. Widths are counted in code points, not bytes.
std::string render_table(const std::vector<std::string>& headers, const std::vector<std::vector<std::string>>& rows);

// Number of code points in UTF-8 text (what a terminal shows as width for our ASCII and box-drawing cells).
std::size_t display_width(const std::string& text);

}  // namespace trellis
