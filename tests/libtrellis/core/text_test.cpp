// The one list, hex and base64 of Trellis (core/text.hpp).
#include "core/text.hpp"

#include <gtest/gtest.h>

#include <set>

namespace trellis {
namespace {

using Strings = std::vector<std::string>;

TEST(Text, SplitListTakesCommasAndSpacesAndDropsEmptyItems) {
    EXPECT_EQ(split_list("a,b c,\td\n"), (Strings{"a", "b", "c", "d"}));
    EXPECT_EQ(split_list(" , ,"), Strings{});
    EXPECT_EQ(split_list(""), Strings{});
    EXPECT_EQ(split_list("a,b c ,, d"), (Strings{"a", "b", "c", "d"}));
    EXPECT_EQ(split_list("https://a:1,https://b:2"), (Strings{"https://a:1", "https://b:2"}));
}

TEST(Text, TrimDropsWhiteSpaceAtBothEnds) {
    EXPECT_EQ(trim(" \t a b \r\n"), "a b");
    EXPECT_EQ(trim(" \n "), "");
    EXPECT_EQ(trim("x"), "x");
}

TEST(Text, SplitOnKeepsEmptyItemsAndTrimsBlanks) {
    EXPECT_EQ(split_on("a, b ,,c", ','), (Strings{"a", "b", "", "c"}));
    EXPECT_EQ(split_on("", ','), Strings{""});
    EXPECT_EQ(split_on("x", ','), Strings{"x"});
}

TEST(Text, JoinTakesAnyRangeOfStrings) {
    EXPECT_EQ(join(Strings{"a", "b", "c"}, ","), "a,b,c");
    EXPECT_EQ(join(std::set<std::string>{"b", "a"}, ", "), "a, b");
    EXPECT_EQ(join(Strings{}, ","), "");
    EXPECT_EQ(join(Strings{"", "x"}, ","), ",x");  // an empty first item still gets its separator
}

TEST(Text, HexOfBytesInEitherCaseWithOrWithoutSeparator) {
    const std::string bytes("\x00\xab\x7f", 3);
    EXPECT_EQ(hex(bytes), "00ab7f");
    EXPECT_EQ(hex(bytes, HexCase::Upper, ':'), "00:AB:7F");
    EXPECT_EQ(hex(""), "");
}

TEST(Text, HexU64IsGoPercentXAndParsesBack) {
    EXPECT_EQ(hex_u64(0xa32e8f613b529ad4ULL), "a32e8f613b529ad4");
    EXPECT_EQ(hex_u64(0x4d2), "4d2");
    EXPECT_EQ(hex_u64(0), "0");
    EXPECT_EQ(parse_hex_u64("A32E8F613B529AD4"), 0xa32e8f613b529ad4ULL);
    for (const char* bad : {"", "xyz", "a32e8f613b529ad4a", "-1", "12 ", "0x12", "+1"})
        EXPECT_FALSE(parse_hex_u64(bad)) << bad;
}

TEST(Text, Base64RoundTripsEveryLengthAndMatchesRfc4648) {
    // RFC 4648 section 10's test vectors.
    const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                           {"f", "Zg=="},
                                                           {"fo", "Zm8="},
                                                           {"foo", "Zm9v"},
                                                           {"foob", "Zm9vYg=="},
                                                           {"fooba", "Zm9vYmE="},
                                                           {"foobar", "Zm9vYmFy"}};
    for (const auto& [plain, coded] : vectors) {
        EXPECT_EQ(base64_encode(plain), coded);
        EXPECT_EQ(base64_decode(coded), plain);
    }
    std::string all;
    for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
    EXPECT_EQ(base64_decode(base64_encode(all)), all);
}

TEST(Text, Base64DecodeIsStrictUnlessAskedToSkipSpace) {
    for (const char* bad : {"Zg", "Zg=", "Z===", "====", "Zm9v!A==", "Zg==Zg==", "Zm 9v"})
        EXPECT_FALSE(base64_decode(bad)) << bad;
    EXPECT_EQ(base64_decode("Zm9v\nYmFy\n", true), "foobar");
}

}  // namespace
}  // namespace trellis
