#include "table.hpp"

#include <gtest/gtest.h>

namespace trellis::ctl {
namespace {

TEST(Table, LaysOutLikeTheGuide) {
    // The guide's own first row and header: centred headers, a rule of width+2 per column, cells after two spaces.
    const std::string out = render_table({"ID", "Name"}, {{"a32e8f613b529ad4", "backend-1"}});
    EXPECT_EQ(
        out,
        "         ID            Name\n"
        " \u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500"
        " \u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\n"
        "  a32e8f613b529ad4   backend-1\n");
}

TEST(Table, WidestCellSetsTheColumnAndTrailingSpacesAreTrimmed) {
    const std::string out = render_table({"A", "B"}, {{"x", ""}, {"longer", "y"}});
    EXPECT_EQ(out,
              "    A      B\n"
              " \u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500 \u2500\u2500\u2500\n"
              "  x\n"
              "  longer   y\n");
}

TEST(Table, ColumnsAsDataRenderTheSameAsCells) {
    struct Row {
        int n;
        std::string s;
    };
    const std::vector<Column<Row>> columns{{"N", [](const Row& r) { return std::to_string(r.n); }},
                                           {"S", [](const Row& r) { return r.s; }}};
    EXPECT_EQ(render_table(columns, std::vector<Row>{{1, "one"}, {22, "two"}}),
              render_table({"N", "S"}, {{"1", "one"}, {"22", "two"}}));
}

TEST(Table, WidthCountsCodePointsNotBytes) {
    EXPECT_EQ(display_width("\u2500\u2500"), 2u);
    EXPECT_EQ(display_width("abc"), 3u);
    // A multi-byte cell must not widen its column beyond its visible width.
    const std::string out = render_table({"H"}, {{"\u00e9\u00e9\u00e9"}});
    EXPECT_EQ(out, "   H\n \u2500\u2500\u2500\u2500\u2500\n  \u00e9\u00e9\u00e9\n");
}

TEST(Table, NoRowsStillPrintsHeaderAndRule) {
    EXPECT_EQ(render_table({"ID"}, {}), "  ID\n \u2500\u2500\u2500\u2500\n");
}

}  // namespace
}  // namespace trellis::ctl
