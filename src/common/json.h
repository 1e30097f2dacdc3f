#pragma once
// A small JSON writer for the records reaper writes itself (state files, CLI
// output); reading goes through simdjson.
//
// Any byte string quotes to valid JSON: `"` and `\` are escaped, control
// characters and DEL become \b \f \n \r \t or \u00XX, and every byte that is
// not part of well-formed UTF-8 (stray continuation bytes, overlong forms,
// surrogates, code points above U+10FFFF, truncated sequences) is replaced by
// \ufffd, one per byte, as Go's encoding/json does. The replacement is lossy:
// a value that must survive byte for byte (Linux paths are bytes, not text)
// has to be valid UTF-8 or be encoded by the caller first.

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace reaper {

// Makes simdjson parse with its portable implementation in this process,
// without picking one by the CPU's features: called first thing in main().
// reaper reads small documents (config.json, its records: bytes to tens of
// KiB) that any implementation parses in microseconds, while the detection
// costs a CPUID per feature, and a CPUID traps to the hypervisor in a VM
// (5.5 us each on the benchmark machine: docs/performance.md). The build
// compiles only that implementation (subprojects/simdjson/meson.build).
void use_portable_json_parser();

// `s` as a JSON string literal, quotes included.
std::string json_quote(std::string_view s);
// Appends json_quote(s) to `out`.
void json_quote_to(std::string& out, std::string_view s);

// Builds one JSON value (usually an object) with the commas in the right
// places. Misuse (a value in an object without a key, unbalanced ends, two
// top-level values) is a programming error and asserts.
//
//   JsonWriter w(2);
//   w.begin_object().key("id").value(id).key("pid").value(pid).end_object();
//   write(w.str());
class JsonWriter {
 public:
  // indent 0 writes one line; otherwise each member or element goes on its
  // own line, indented by `indent` spaces per level.
  explicit JsonWriter(int indent = 0) : indent_(indent) {}

  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view k);

  JsonWriter& value(std::string_view v);
  JsonWriter& value(const char* v) { return value(std::string_view(v)); }  // not bool
  // Any integer type, or bool, without ambiguity between the overloads.
  template <std::integral T>
  JsonWriter& value(T v) {
    if constexpr (std::same_as<T, bool>)
      return write_bool(v);
    else if constexpr (std::is_signed_v<T>)
      return write_int(v);
    else
      return write_uint(v);
  }
  JsonWriter& null();

  // The text so far; a complete document once every begin has its end.
  [[nodiscard]] const std::string& str() const { return out_; }
  [[nodiscard]] bool complete() const { return stack_.empty() && !out_.empty(); }

 private:
  struct Level {
    bool object;
    bool empty;
  };

  JsonWriter& write_bool(bool v);
  JsonWriter& write_int(int64_t v);
  JsonWriter& write_uint(uint64_t v);
  JsonWriter& open(char bracket, bool object);
  JsonWriter& close(char bracket, bool object);
  void before_value();
  void next_line();

  std::string out_;
  std::vector<Level> stack_;
  int indent_;
  bool after_key_ = false;
};

}  // namespace reaper
