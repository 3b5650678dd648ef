#include "core/strict_json.hpp"

#include <gtest/gtest.h>

namespace trellis {

static Code code_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.code();
    }
    return Code::Internal;
}

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

}  // namespace trellis
