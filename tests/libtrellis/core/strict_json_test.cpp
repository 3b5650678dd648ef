#include "core/strict_json.hpp"

#include <gtest/gtest.h>

#include "code_of.hpp"

namespace trellis {

using testing::code_of;

TEST(StrictJson, MalformedInputNamesLineAndColumn) {
    try {
        parse_json("{\n  \"CN\": \"x\",\n  oops\n}", "csr.json");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), Code::InputMalformed);
        EXPECT_NE(std::string(e.what()).find("csr.json:3:"), std::string::npos) << e.what();
    }
}

TEST(StrictJson, ReadsTypedValues) {
    const auto doc = parse_json(R"({"s":"x","i":3,"b":true,"l":["a","b"],"o":{"k":"v"}})", "t.json");
    JsonObject o(doc, "t.json");
    EXPECT_EQ(*o.string("s"), "x");
    EXPECT_EQ(*o.integer("i"), 3);
    EXPECT_TRUE(*o.boolean("b"));
    EXPECT_EQ(o.strings("l")->size(), 2u);
    auto inner = o.object("o");
    EXPECT_EQ(*inner->string("k"), "v");
    inner->finish();
    EXPECT_FALSE(o.string("absent").has_value());
    o.finish();
}

TEST(StrictJson, WrongTypeNamesThePath) {
    const auto doc = parse_json(R"({"key":{"size":"2048"}})", "csr.json");
    JsonObject o(doc, "csr.json");
    auto key = o.object("key");
    try {
        key->integer("size");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), Code::InputWrongType);
        EXPECT_STREQ(e.what(), "csr.json: key.size: expected a whole number, got string");
    }
}

TEST(StrictJson, UnknownKeySuggestsTheClosest) {
    const auto doc = parse_json(R"({"CN":"x","hostz":["a"]})", "csr.json");
    JsonObject o(doc, "csr.json");
    o.string("CN");
    o.strings("hosts");
    try {
        o.finish();
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), Code::InputUnknownKey);
        EXPECT_NE(std::string(e.what()).find("did you mean \"hosts\""), std::string::npos) << e.what();
    }
}

TEST(StrictJson, ListItemsAreTypeChecked) {
    const auto doc = parse_json(R"({"usages":["signing",3]})", "c.json");
    JsonObject o(doc, "c.json");
    EXPECT_EQ(code_of([&] { o.strings("usages"); }), Code::InputWrongType);
}

TEST(StrictJson, ClosestMatchIgnoresFarWords) {
    EXPECT_EQ(closest_match("server auht", {"server auth", "client auth"}), "server auth");
    EXPECT_FALSE(closest_match("zzzzzzzz", {"signing", "digital signature"}).has_value());
}

// A megabyte key is not compared letter by letter with every known name (the fuzzer found it slow).
TEST(StrictJson, ClosestMatchSkipsHugeWords) {
    EXPECT_FALSE(closest_match(std::string(1 << 20, 's') + "igning", {"signing"}).has_value());
    EXPECT_EQ(closest_match("signingg", {"sig", "signing"}), "signing");
}

// Issue 9: no JSON input may end in an internal error.
TEST(StrictJson, HostileDocumentsGetStableCodes) {
    EXPECT_EQ(code_of([] { parse_json(R"({"size":1e400})", "x"); }), Code::InputInvalidValue);
    EXPECT_EQ(code_of([] { parse_json(R"([-1e400])", "x"); }), Code::InputInvalidValue);
    EXPECT_EQ(code_of([] { parse_json(R"({"a":1,"b":{"c":1,"c":2}})", "x"); }), Code::InputDuplicateKey);
    EXPECT_EQ(code_of([] { parse_json(std::string(30000, '[') + std::string(30000, ']'), "x"); }), Code::InputTooDeep);
    EXPECT_NO_THROW(parse_json(std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']'), "x"));
    nlohmann::json deep = nlohmann::json::array();
    for (size_t i = 0; i < kMaxJsonDepth + 5; ++i) deep = nlohmann::json::array({deep});
    EXPECT_EQ(code_of([&] { check_depth(deep, "x"); }), Code::InputTooDeep);
}

TEST(StrictJson, CaseVariantOfAKnownKeyIsNamed) {
    const auto doc = parse_json(R"({"Usages":["a"]})", "c.json");
    JsonObject obj(doc, "c.json");
    try {
        obj.strings("usages");
        FAIL() << "a case variant was read as absent";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), Code::InputUnknownKey);
        EXPECT_EQ(std::string(e.what()), "c.json: Usages: unknown key (did you mean \"usages\"?)");
    }
}

TEST(Errors, ExcerptIsShortAndEscaped) {
    EXPECT_EQ(excerpt("plain"), "plain");
    EXPECT_EQ(excerpt(std::string("a\nb\0c\x7f", 6)), "a\\nb\\x00c\\x7f");
    EXPECT_EQ(excerpt("h\xc3\xa9"), "h\xc3\xa9");  // valid UTF-8 stays
    EXPECT_EQ(excerpt("\xff"), "\\xff");
    const std::string big(50 << 20, 'v');
    const std::string cut = excerpt(big);
    EXPECT_LT(cut.size(), 120u);
    EXPECT_NE(cut.find("(52428800 bytes)"), std::string::npos) << cut;
    // An Error quoting bytes that are not UTF-8 still prints as JSON.
    EXPECT_NO_THROW(Error(Code::InputInvalidValue, "\xff\xfe").to_json());
}

}  // namespace trellis
