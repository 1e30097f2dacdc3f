// Fuzz target for config.json (oci::parse_spec): written by containerd from a
// pod spec, or by whoever prepared the bundle for reaper-runtime. Besides
// not crashing, whatever parses must keep the promises spec.h makes, and the
// overlay's reading of the mounts (is_volume) must cope with any of them.
// Seeds: test/fuzz/corpus/oci_spec/.

#include <simdjson.h>

#include "fuzz_support.h"
#include "oci/spec.h"
#include "overlay/internal.h"

using reaper::fuzz::check;

namespace {

bool has_nul(const std::string& s) {
  return s.find('\0') != std::string::npos;
}

void check_process(const reaper::oci::Process& p) {
  check(!p.args.empty());
  for (const auto& a : p.args) check(!has_nul(a));
  check(!p.cwd.empty() && p.cwd[0] == '/' && !has_nul(p.cwd));
  for (const auto& e : p.env) check(e.find('=') != std::string::npos && !has_nul(e));
  for (const auto& r : p.rlimits)
    check(reaper::oci::rlimit_resource(r.type).has_value() && r.soft <= r.hard);
  if (p.capabilities) {
    for (const auto* set :
         {&p.capabilities->bounding, &p.capabilities->effective, &p.capabilities->inheritable,
          &p.capabilities->permitted, &p.capabilities->ambient})
      for (const auto& c : *set) check(reaper::oci::capability_number(c).has_value());
  }
  check(p.user.uid != static_cast<uid_t>(-1) && p.user.gid != static_cast<gid_t>(-1));
  for (gid_t g : p.user.additional_gids) check(g != static_cast<gid_t>(-1));
  check(!p.user.umask || *p.user.umask <= 0777);
  check(!p.oom_score_adj || (*p.oom_score_adj >= -1000 && *p.oom_score_adj <= 1000));
}

void check_spec(const reaper::oci::Spec& spec) {
  if (spec.process) check_process(*spec.process);
  for (const auto& m : spec.mounts) {
    check(!m.destination.empty() && m.destination[0] == '/');
    check(!has_nul(m.destination) && !has_nul(m.source) && !has_nul(m.type));
    for (const auto& o : m.options) check(!has_nul(o));
    (void)reaper::overlay::is_volume(m);
  }
  for (size_t i = 0; i < spec.namespaces.size(); ++i)
    for (size_t j = 0; j < i; ++j) check(spec.namespaces[i].type != spec.namespaces[j].type);
  check(!has_nul(spec.root_path) && !has_nul(spec.hostname) && !has_nul(spec.cgroups_path));
  if (!spec.resources_json.empty()) {
    // Kept as text for the cgroups code: it must be one JSON object.
    simdjson::dom::parser parser;
    simdjson::dom::object obj;
    check(parser.parse(spec.resources_json).get_object().get(obj) == simdjson::SUCCESS);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto text = reaper::fuzz::as_text(data, size);
  if (auto spec = reaper::oci::parse_spec(text, "fuzz"))
    check_spec(*spec);
  else
    reaper::fuzz::check_message(spec.error().message(), "fuzz: ");
  return 0;
}
