// Fuzz target for the config.json and process.json parsers (and signal
// names, which come from the shim's Kill requests). Besides not crashing,
// whatever parses must satisfy the promises spec.h makes, so a reader that
// forgets a check shows up as a trap. Seeds: test/fuzz/corpus/oci/.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "oci/spec.h"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void check_process(const reaper::oci::Process& p) {
  check(!p.args.empty());
  check(!p.cwd.empty() && p.cwd[0] == '/');
  for (const auto& e : p.env) check(e.find('=') != std::string::npos);
  for (const auto& r : p.rlimits)
    check(reaper::oci::rlimit_resource(r.type).has_value() && r.soft <= r.hard);
  check(!p.user.umask || *p.user.umask <= 0777);
  check(!p.oom_score_adj || (*p.oom_score_adj >= -1000 && *p.oom_score_adj <= 1000));
}

void check_spec(const reaper::oci::Spec& spec) {
  if (spec.process) check_process(*spec.process);
  for (const auto& m : spec.mounts) check(!m.destination.empty() && m.destination[0] == '/');
  if (!spec.resources_json.empty()) {
    simdjson::dom::parser parser;
    simdjson::dom::object obj;
    check(parser.parse(spec.resources_json).get_object().get(obj) == simdjson::SUCCESS);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // Every failure names its origin first.
  if (auto spec = reaper::oci::parse_spec(text, "fuzz"))
    check_spec(*spec);
  else
    check(spec.error().message().starts_with("fuzz: "));
  if (auto process = reaper::oci::parse_process(text, "fuzz"))
    check_process(*process);
  else
    check(process.error().message().starts_with("fuzz: "));
  if (size <= 32) {
    if (auto sig = reaper::oci::parse_signal(text)) check(*sig >= 1 && *sig <= 64);
  }
  return 0;
}
