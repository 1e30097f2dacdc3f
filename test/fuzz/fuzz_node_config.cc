// Fuzz target for the node configuration (/etc/reaper/reaper.conf and the
// REAPER_* environment; common/config.h). The administrator writes it, but
// it decides what protects the host, so whatever parses must be sane: every
// directory absolute and normalized, nothing that would break the overlayfs
// mount options, masked paths never `/`. The input is the file text, then
// optionally a NUL byte and environment entries, one per line. Seeds:
// test/fuzz/corpus/node_config/.

#include <algorithm>

#include "common/config.h"
#include "fuzz_support.h"

using reaper::fuzz::check;

namespace {

bool normalized_absolute(const std::string& p) {
  if (p.empty() || p[0] != '/') return false;
  if (p == "/") return true;
  if (p.back() == '/' || p.find("//") != std::string::npos || p.find('\0') != std::string::npos)
    return false;
  for (auto part : reaper::fuzz::split(std::string_view(p).substr(1), '/'))
    if (part == "." || part == "..") return false;
  return true;
}

void check_config(const reaper::NodeConfig& c) {
  check(normalized_absolute(c.state_root) && c.state_root != "/");
  check(c.runtime_log.empty() || normalized_absolute(c.runtime_log));
  check(c.shim_log.empty() || normalized_absolute(c.shim_log));
  if (!c.overlay_base.empty()) {
    check(normalized_absolute(c.overlay_base) && c.overlay_base != "/");
    check(c.overlay_base.find_first_of(",:\\") == std::string::npos);
  }
  check(c.overlay_ns_dir.empty() ||
        (normalized_absolute(c.overlay_ns_dir) && c.overlay_ns_dir != "/"));
  for (const auto* list : {&c.filter_paths, &c.filter_allowlist}) {
    for (const auto& p : *list) {
      check(normalized_absolute(p) && p != "/");
      check(std::count(list->begin(), list->end(), p) == 1);
    }
  }
  for (const auto& a : c.annotations_allowlist)
    check(a == "dns-mode" || a == "overlay-name" || a == "network");
  (void)c.annotation_allowed("dns-mode");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto text = reaper::fuzz::as_text(data, size);
  std::string_view file = text;
  std::vector<std::string> env;
  if (auto nul = text.find('\0'); nul != std::string_view::npos) {
    file = text.substr(0, nul);
    for (auto line : reaper::fuzz::split(text.substr(nul + 1), '\n')) {
      // An environment entry cannot hold a NUL: it ends the C string.
      env.emplace_back(line.substr(0, line.find('\0')));
    }
  }
  std::vector<const char*> envp;
  for (const auto& e : env) envp.push_back(e.c_str());
  envp.push_back(nullptr);

  auto config = reaper::parse_node_config(file, "fuzz.conf", envp.data());
  if (config) {
    check_config(*config);
  } else {
    const auto& m = config.error().message();
    check(m.starts_with("fuzz.conf:") || m.starts_with("environment: "));
  }
  return 0;
}
