#include "common/json.h"
#include "common/json_read.h"

#include <cassert>
#include <iterator>

#include <fmt/format.h>
#include <simdjson.h>

namespace reaper {

Result<simdjson::dom::element> parse_json(simdjson::dom::parser& parser, std::string_view json) {
  if (json.empty()) return make_error("malformed JSON: empty document");
  simdjson::dom::element root;
  // A parser that already has the room (and the depth) keeps its buffers.
  auto err = simdjson::SUCCESS;
  if (parser.capacity() < json.size() || parser.max_depth() != max_json_depth)
    err = parser.allocate(json.size(), max_json_depth);
  if (err == simdjson::SUCCESS) err = parser.parse(json.data(), json.size()).get(root);
  if (err != simdjson::SUCCESS)
    return make_error("malformed JSON: {}", simdjson::error_message(err));
  return root;
}

void use_portable_json_parser() {
  if (const auto* impl = simdjson::get_available_implementations()["fallback"])
    simdjson::get_active_implementation() = impl;
}

namespace {

// Length of the well-formed UTF-8 sequence at the start of `s` (Unicode
// Table 3-7), or 0 when it does not start with one. `s` is not empty.
size_t utf8_length(std::string_view s) {
  auto byte = [s](size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char c = byte(0);
  if (c < 0x80) return 1;
  size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;  // overlong
    if (c == 0xED) hi = 0x9F;  // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;  // overlong
    if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (s.size() < n || byte(1) < lo || byte(1) > hi) return 0;
  for (size_t i = 2; i < n; ++i)
    if (byte(i) < 0x80 || byte(i) > 0xBF) return 0;
  return n;
}

// The escape for an ASCII byte, or nullptr when it goes out as it is.
const char* short_escape(char c) {
  switch (c) {
    case '"':
      return "\\\"";
    case '\\':
      return "\\\\";
    case '\b':
      return "\\b";
    case '\f':
      return "\\f";
    case '\n':
      return "\\n";
    case '\r':
      return "\\r";
    case '\t':
      return "\\t";
    default:
      return nullptr;
  }
}

void append_ascii(std::string& out, char c) {
  if (const char* esc = short_escape(c)) {
    out += esc;
  } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
    fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<unsigned>(c));
  } else {
    out += c;
  }
}

}  // namespace

void json_quote_to(std::string& out, std::string_view s) {
  out += '"';
  while (!s.empty()) {
    size_t n = utf8_length(s);
    if (n == 1) {
      append_ascii(out, s[0]);
    } else if (n == 0) {
      out += "\\ufffd";
      n = 1;
    } else {
      out.append(s.substr(0, n));
    }
    s.remove_prefix(n);
  }
  out += '"';
}

std::string json_quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  json_quote_to(out, s);
  return out;
}

void JsonWriter::next_line() {
  if (indent_ <= 0) return;
  out_ += '\n';
  out_.append(stack_.size() * static_cast<size_t>(indent_), ' ');
}

void JsonWriter::before_value() {
  if (stack_.empty()) {
    assert(out_.empty() && "JsonWriter: one top-level value only");
    return;
  }
  Level& top = stack_.back();
  if (top.object) {
    assert(after_key_ && "JsonWriter: value in an object needs a key");
    after_key_ = false;
    return;
  }
  if (!top.empty) out_ += ',';
  top.empty = false;
  next_line();
}

JsonWriter& JsonWriter::key(std::string_view k) {
  assert(!stack_.empty() && stack_.back().object && !after_key_ && "JsonWriter: misplaced key");
  Level& top = stack_.back();
  if (!top.empty) out_ += ',';
  top.empty = false;
  next_line();
  json_quote_to(out_, k);
  out_ += indent_ > 0 ? ": " : ":";
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::open(char bracket, bool object) {
  before_value();
  out_ += bracket;
  stack_.push_back({object, true});
  return *this;
}

JsonWriter& JsonWriter::close(char bracket, [[maybe_unused]] bool object) {
  assert(!stack_.empty() && stack_.back().object == object && !after_key_ &&
         "JsonWriter: unbalanced end");
  bool empty = stack_.back().empty;
  stack_.pop_back();
  if (!empty) next_line();
  out_ += bracket;
  return *this;
}

JsonWriter& JsonWriter::begin_object() {
  return open('{', true);
}
JsonWriter& JsonWriter::end_object() {
  return close('}', true);
}
JsonWriter& JsonWriter::begin_array() {
  return open('[', false);
}
JsonWriter& JsonWriter::end_array() {
  return close(']', false);
}

JsonWriter& JsonWriter::value(std::string_view v) {
  before_value();
  json_quote_to(out_, v);
  return *this;
}

JsonWriter& JsonWriter::write_bool(bool v) {
  before_value();
  out_ += v ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::write_int(int64_t v) {
  before_value();
  fmt::format_to(std::back_inserter(out_), "{}", v);
  return *this;
}

JsonWriter& JsonWriter::write_uint(uint64_t v) {
  before_value();
  fmt::format_to(std::back_inserter(out_), "{}", v);
  return *this;
}

JsonWriter& JsonWriter::null() {
  before_value();
  out_ += "null";
  return *this;
}

}  // namespace reaper
