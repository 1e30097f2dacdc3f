// Fuzz target for OCI Process JSON (oci::parse_process): the spec of an exec,
// from the shim's Exec request or `reaper-runtime exec --process`. What
// parses must be valid and survive the round trip the runtime makes
// (oci::to_json into process.json, parsed again by the monitor) unchanged.
// Seeds: test/fuzz/corpus/oci_process/.

#include "fuzz_support.h"
#include "oci/process_json.h"
#include "oci/spec.h"

using reaper::fuzz::check;

namespace {

bool same_caps(const reaper::oci::Capabilities& a, const reaper::oci::Capabilities& b) {
  return a.bounding == b.bounding && a.effective == b.effective && a.inheritable == b.inheritable &&
         a.permitted == b.permitted && a.ambient == b.ambient;
}

bool same(const reaper::oci::Process& a, const reaper::oci::Process& b) {
  if (a.terminal != b.terminal || a.console_size.has_value() != b.console_size.has_value())
    return false;
  if (a.console_size && (a.console_size->height != b.console_size->height ||
                         a.console_size->width != b.console_size->width))
    return false;
  if (a.user.uid != b.user.uid || a.user.gid != b.user.gid || a.user.umask != b.user.umask ||
      a.user.additional_gids != b.user.additional_gids)
    return false;
  if (a.args != b.args || a.env != b.env || a.cwd != b.cwd) return false;
  if (a.capabilities.has_value() != b.capabilities.has_value()) return false;
  if (a.capabilities && !same_caps(*a.capabilities, *b.capabilities)) return false;
  if (a.rlimits.size() != b.rlimits.size()) return false;
  for (size_t i = 0; i < a.rlimits.size(); ++i) {
    const auto &x = a.rlimits[i], &y = b.rlimits[i];
    if (x.type != y.type || x.hard != y.hard || x.soft != y.soft) return false;
  }
  return a.no_new_privileges == b.no_new_privileges && a.oom_score_adj == b.oom_score_adj;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto process = reaper::oci::parse_process(reaper::fuzz::as_text(data, size), "fuzz");
  if (!process) {
    reaper::fuzz::check_message(process.error().message(), "fuzz: ");
    return 0;
  }
  check(!process->args.empty() && !process->cwd.empty() && process->cwd[0] == '/');
  std::string written = reaper::oci::to_json(*process);
  auto again = reaper::oci::parse_process(written, "round trip");
  check(again.ok());
  check(same(*process, *again));
  return 0;
}
