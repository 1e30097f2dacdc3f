#include <algorithm>

#include "network/network.h"

namespace reaper::network {

namespace {

// The annotation's value where the administrator allows it; empty when it is
// not honoured or not set.
std::string_view honoured_annotation(const NodeConfig& cfg,
                                     const std::map<std::string, std::string>& annotations) {
  if (!cfg.annotation_allowed("network")) return {};
  auto it = annotations.find(std::string(network_annotation));
  return it == annotations.end() ? std::string_view() : std::string_view(it->second);
}

}  // namespace

Result<NetworkMode> mode_for(const NodeConfig& cfg,
                             const std::map<std::string, std::string>& annotations) {
  std::string_view value = honoured_annotation(cfg, annotations);
  if (value.empty()) return cfg.network_mode;
  return REAPER_TRY_CTX(parse_network_mode(value), "annotation {}", network_annotation);
}

std::string spec_netns_path(const oci::Spec& spec) {
  auto it = std::find_if(spec.namespaces.begin(), spec.namespaces.end(),
                         [](const oci::Namespace& ns) { return ns.type == "network"; });
  return it == spec.namespaces.end() ? std::string() : it->path;
}

Result<std::string> netns_path_for(const NodeConfig& cfg, const oci::Spec& spec) {
  NetworkMode mode = REAPER_TRY(mode_for(cfg, spec.annotations));
  if (mode == NetworkMode::host) return std::string();
  auto it = std::find_if(spec.namespaces.begin(), spec.namespaces.end(),
                         [](const oci::Namespace& ns) { return ns.type == "network"; });
  std::string_view source = honoured_annotation(cfg, spec.annotations).empty()
                                ? "REAPER_NETWORK"
                                : "annotation reaper.runtime/network";
  if (it == spec.namespaces.end())
    return make_error(
        "network mode `pod` ({}) needs the pod's network namespace, but linux.namespaces has no "
        "`network` entry (for a pod on the host's network, use network mode `host`)",
        source);
  if (it->path.empty())
    return make_error(
        "network mode `pod` ({}) needs the pod's network namespace, but the `network` entry of "
        "linux.namespaces has no path (reaper joins an existing namespace, it creates none)",
        source);
  return it->path;
}

}  // namespace reaper::network
