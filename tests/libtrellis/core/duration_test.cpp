#include "core/duration.hpp"

#include <gtest/gtest.h>

namespace trellis {
namespace {

using namespace std::chrono;

TEST(GoDuration, ParsesGosGrammar) {
    const std::pair<const char*, nanoseconds> cases[] = {
        {"0", 0ns},
        {"1h", 1h},
        {"1m30s", 90s},
        {"500ms", 500ms},
        {"8760h", hours(8760)},
        {"1.5h", 90min},
        {"43800h0m0s", hours(43800)},
        {"+5s", 5s},
        {"-2s", -2s},
        {".5s", 500ms},
        {"1.s", 1s},
        {"2us", 2us},
        {"2\xc2\xb5s", 2us},
        {"3ns", 3ns},
        {"1h1m1s1ms", 1h + 1min + 1s + 1ms},
        {"2562047h", hours(2562047)},
    };
    for (const auto& [text, expected] : cases) {
        const auto d = parse_go_duration(text);
        ASSERT_TRUE(d) << text;
        EXPECT_EQ(*d, expected) << text;
    }
}

TEST(GoDuration, RefusesWhatGoRefusesWithAReason) {
    const std::pair<const char*, const char*> cases[] = {
        {"", "empty"},
        {"10", "no unit"},
        {"1y", "unknown unit \"y\""},
        {"1d", "unknown unit"},
        {"h", "expected a number"},
        {".s", "expected a number"},
        {"-", "empty"},
        {"1h-1m", "unknown unit \"h-\""},
        {"3000000h", "too long"},
        {"9223372036854775808ns", "too long"},
    };
    for (const auto& [text, why] : cases) {
        std::string reason;
        EXPECT_FALSE(parse_go_duration(text, &reason)) << text;
        EXPECT_NE(reason.find(why), std::string::npos) << text << ": " << reason;
    }
}

TEST(GoDuration, FormatsAsGoPrintsAndRoundTrips) {
    EXPECT_EQ(format_go_duration(0s), "0s");
    EXPECT_EQ(format_go_duration(90s), "1m30s");
    EXPECT_EQ(format_go_duration(59s), "59s");
    EXPECT_EQ(format_go_duration(1h), "1h0m0s");
    EXPECT_EQ(format_go_duration(hours(43800)), "43800h0m0s");
    EXPECT_EQ(format_go_duration(1500ms), "1.5s");
    EXPECT_EQ(format_go_duration(500ms), "500ms");
    EXPECT_EQ(format_go_duration(1500us), "1.5ms");
    EXPECT_EQ(format_go_duration(2us), "2\xc2\xb5s");
    EXPECT_EQ(format_go_duration(7ns), "7ns");
    EXPECT_EQ(format_go_duration(-90s), "-1m30s");
    for (const nanoseconds d : {nanoseconds(1), nanoseconds(hours(8760) + 123ms), nanoseconds(-3s)})
        EXPECT_EQ(parse_go_duration(format_go_duration(d)), d);
}

}  // namespace
}  // namespace trellis
