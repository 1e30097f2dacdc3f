// Fuzz target for annotations, which come from the pod (its metadata, via
// containerd into config.json) and are read in two places: the shim reads
// the group key for its socket (shim::parse_annotations, group_key) and the
// runtime reads the whole spec (oci::parse_spec), after which the overlay
// interprets the namespace, overlay-name and dns-mode annotations. The two
// readers must agree on the annotations, and whatever the overlay accepts
// must be a safe single path component (groups name directories on the
// host). Seeds: test/fuzz/corpus/annotations/ (config.json texts).

#include "common/config.h"
#include "fuzz_support.h"
#include "oci/spec.h"
#include "overlay/overlay.h"
#include "shim/socket_address.h"

using reaper::fuzz::check;

namespace {

std::vector<reaper::NodeConfig> configs() {
  std::vector<reaper::NodeConfig> out(5);
  out[1].overlay_isolation = reaper::OverlayIsolation::per_node;
  out[2].overlay_enabled = false;
  out[3].annotations_enabled = false;
  out[4].annotations_allowlist = {"dns-mode"};
  out[4].dns_mode = reaper::DnsMode::kubernetes;
  return out;
}

void check_group(const std::string& group, const reaper::NodeConfig& cfg) {
  if (!cfg.overlay_enabled) {
    check(group.empty());
    return;
  }
  check(reaper::overlay::validate_group(group).ok());
  check(!group.empty() && group.size() <= 127 && group != "." && group != "..");
  check(group.find('/') == std::string::npos && group.find('\0') == std::string::npos);
}

void check_interpretation(const std::map<std::string, std::string>& annotations) {
  static const auto cfgs = configs();
  for (const auto& cfg : cfgs) {
    for (std::string_view cli_ns : {"", "default"}) {
      if (auto group = reaper::overlay::group_for(cfg, annotations, cli_ns)) {
        check_group(*group, cfg);
        if (!cli_ns.empty() && cfg.overlay_enabled &&
            cfg.overlay_isolation == reaper::OverlayIsolation::per_namespace)
          check(group->starts_with(cli_ns));
      }
    }
    auto dns = reaper::overlay::dns_mode_for(cfg, annotations);
    if (!cfg.annotation_allowed("dns-mode")) check(dns.ok() && *dns == cfg.dns_mode);
  }
}

void check_socket(const std::map<std::string, std::string, std::less<>>& annotations) {
  std::string group = reaper::shim::group_key(annotations, "container-id");
  std::string path = reaper::shim::socket_path("/run/containerd/containerd.sock", "k8s.io", group);
  // Whatever the annotations say, the socket is a hash in the socket dir.
  check(path.size() == reaper::shim::default_socket_dir.size() + 1 + 64);
  check(path.starts_with(reaper::shim::default_socket_dir));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto text = reaper::fuzz::as_text(data, size);
  auto shim_view = reaper::shim::parse_annotations(text);
  if (shim_view) check_socket(*shim_view);
  auto spec = reaper::oci::parse_spec(text, "fuzz");
  if (!spec) return 0;
  check_interpretation(spec->annotations);
  // One document, two readers, one answer.
  check(shim_view.ok());
  check(shim_view->size() == spec->annotations.size());
  for (const auto& [k, v] : spec->annotations) {
    auto it = shim_view->find(k);
    check(it != shim_view->end() && it->second == v);
  }
  return 0;
}
