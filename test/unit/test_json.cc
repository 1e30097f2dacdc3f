#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <string>

#include <simdjson.h>

#include "common/json.h"
#include "common/json_read.h"

using reaper::json_quote;
using reaper::JsonWriter;
using reaper::max_json_depth;
using reaper::parse_json;

namespace {

// What simdjson reads back from a quoted string; "<error>" if it rejects it.
std::string parse_back(const std::string& json) {
  simdjson::dom::parser parser;
  std::string_view out;
  if (parser.parse(json).get_string().get(out) != simdjson::SUCCESS) return "<error>";
  return std::string(out);
}

// A compact JSON text as simdjson re-serializes it: proves `json` is valid
// and gives a canonical form to compare.
std::string reparse(const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  if (parser.parse(json).get(e) != simdjson::SUCCESS) return "<error>";
  return simdjson::to_string(e);
}

}  // namespace

TEST_CASE("json_quote escapes quotes, backslashes and control characters") {
  CHECK(json_quote("") == R"("")");
  CHECK(json_quote("plain /path") == R"("plain /path")");
  CHECK(json_quote("say \"hi\"") == R"("say \"hi\"")");
  CHECK(json_quote("C:\\dir") == R"("C:\\dir")");
  CHECK(json_quote("a\nb\tc\rd\be\ff") == R"("a\nb\tc\rd\be\ff")");
  CHECK(json_quote(std::string("\x00\x01\x1b\x1f\x7f", 5)) ==
        R"("\u0000\u0001\u001b\u001f\u007f")");
}

TEST_CASE("json_quote keeps valid UTF-8 and replaces each invalid byte with U+FFFD") {
  CHECK(json_quote("caf\xc3\xa9") == "\"caf\xc3\xa9\"");                                    // é
  CHECK(json_quote("\xe2\x82\xac") == "\"\xe2\x82\xac\"");                                  // €
  CHECK(json_quote("\xf0\x9f\x98\x80") == "\"\xf0\x9f\x98\x80\"");                          // 😀
  CHECK(json_quote("\xef\xbf\xbf\xf4\x8f\xbf\xbf") == "\"\xef\xbf\xbf\xf4\x8f\xbf\xbf\"");  // edges
  CHECK(json_quote("a\xff\x62") == R"("a\ufffdb")");                         // never valid
  CHECK(json_quote("\x80") == R"("\ufffd")");                                // stray continuation
  CHECK(json_quote("\xc0\xaf") == R"("\ufffd\ufffd")");                      // overlong '/'
  CHECK(json_quote("\xe0\x80\xaf") == R"("\ufffd\ufffd\ufffd")");            // overlong
  CHECK(json_quote("\xed\xa0\x80") == R"("\ufffd\ufffd\ufffd")");            // surrogate D800
  CHECK(json_quote("\xf4\x90\x80\x80") == R"("\ufffd\ufffd\ufffd\ufffd")");  // > U+10FFFF
  CHECK(json_quote("x\xe2\x82") == R"("x\ufffd\ufffd")");                    // truncated
  CHECK(json_quote("\xe2\x82\x61") == R"("\ufffd\ufffda")");                 // cut short
}

TEST_CASE("json_quote round-trips nasty valid strings through simdjson") {
  std::string all_ascii;
  for (int c = 0; c < 128; ++c) all_ascii += static_cast<char>(c);
  const std::string cases[] = {
      "",
      all_ascii,
      std::string("nul\0inside", 10),
      "\"\\\"\\\\\"",
      "\\u0041 is not A",
      "</script><!--",
      "\xe2\x80\xa8\xe2\x80\xa9",  // U+2028, U+2029
      "mixed \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 \t end\n",
  };
  for (const auto& s : cases) {
    CAPTURE(json_quote(s));
    CHECK(parse_back(json_quote(s)) == s);
  }
}

TEST_CASE("json_quote output of invalid UTF-8 is valid JSON with replacements") {
  std::string bytes;
  for (int c = 0; c < 256; ++c) bytes += static_cast<char>(c);
  std::string back = parse_back(json_quote(bytes));
  REQUIRE(back != "<error>");
  // 128 ASCII bytes, then 128 bytes that are invalid alone: 128 x U+FFFD.
  std::string expected = bytes.substr(0, 128);
  for (int i = 0; i < 128; ++i) expected += "\xef\xbf\xbd";
  CHECK(back == expected);
}

TEST_CASE("JsonWriter writes compact objects and arrays with the right commas") {
  JsonWriter w;
  w.begin_object();
  w.key("id").value("web-1");
  w.key("pid").value(4242);
  w.key("running").value(true);
  w.key("exit").null();
  w.key("args").begin_array().value("sh").value("-c").value("echo \"x\"").end_array();
  w.key("empty").begin_object().end_object();
  w.key("none").begin_array().end_array();
  w.key("nested").begin_array();
  w.begin_object().key("a").value(uint64_t{1}).end_object();
  w.begin_array().end_array();
  w.end_array();
  w.end_object();
  CHECK(w.complete());
  CHECK(w.str() ==
        R"({"id":"web-1","pid":4242,"running":true,"exit":null,"args":["sh","-c","echo \"x\""],)"
        R"("empty":{},"none":[],"nested":[{"a":1},[]]})");
  CHECK(reparse(w.str()) == w.str());
}

TEST_CASE("JsonWriter writes integer extremes exactly") {
  JsonWriter w;
  w.begin_array()
      .value(std::numeric_limits<int64_t>::min())
      .value(std::numeric_limits<uint64_t>::max())
      .value(-1)
      .value(uint32_t{4294967295u})
      .value(false)
      .end_array();
  CHECK(w.str() == "[-9223372036854775808,18446744073709551615,-1,4294967295,false]");
  CHECK(reparse(w.str()) == w.str());
}

TEST_CASE("JsonWriter indents when asked") {
  JsonWriter w(2);
  w.begin_object();
  w.key("a").value(1);
  w.key("b").begin_array().value("x").value("y").end_array();
  w.key("c").begin_object().end_object();
  w.key("d").begin_object().key("e").null().end_object();
  w.end_object();
  CHECK(w.str() ==
        "{\n"
        "  \"a\": 1,\n"
        "  \"b\": [\n"
        "    \"x\",\n"
        "    \"y\"\n"
        "  ],\n"
        "  \"c\": {},\n"
        "  \"d\": {\n"
        "    \"e\": null\n"
        "  }\n"
        "}");
  CHECK(reparse(w.str()) == R"({"a":1,"b":["x","y"],"c":{},"d":{"e":null}})");
}

TEST_CASE("JsonWriter quotes keys and string values") {
  JsonWriter w;
  std::string key("k\"\n\xff", 4);
  w.begin_object().key(key).value(std::string("v\0", 2)).end_object();
  CHECK(w.str() == R"({"k\"\n\ufffd":"v\u0000"})");
  CHECK(!JsonWriter().complete());
}

TEST_CASE("parse_json: nesting up to max_json_depth, deeper refused with a clear error") {
  auto nested = [](size_t depth) {
    return std::string(depth, '[') + "1" + std::string(depth, ']');
  };
  simdjson::dom::parser parser;
  auto ok = parse_json(parser, nested(max_json_depth - 1));  // the document is a level
  REQUIRE(ok.ok());
  auto deep = parse_json(parser, nested(max_json_depth));
  REQUIRE_FALSE(deep.ok());
  CHECK(std::string(deep.error().what()).starts_with("malformed JSON: "));
  CHECK(std::string(deep.error().what()).find("deep") != std::string::npos);
  // The same parser goes on parsing (small after large, and the reverse).
  CHECK(parse_json(parser, R"({"a":[1,2,{"b":null}]})").ok());
  CHECK(parse_json(parser, std::string(100000, ' ') + "{}").ok());
  auto empty = parse_json(parser, "");
  REQUIRE_FALSE(empty.ok());
  CHECK(std::string(empty.error().what()) == "malformed JSON: empty document");
}
