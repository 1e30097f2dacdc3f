#pragma once
// The node configuration: what the administrator decides for every workload
// on this node. Read once per process from a KEY=VALUE file (default
// /etc/reaper/reaper.conf, REAPER_CONFIG names another one) and from the
// REAPER_* environment, which wins over the file. Workloads never change it:
// the few pod annotations that may refine a setting (dns-mode, overlay-name,
// network) are interpreted by the overlay and network code, and only where
// `annotations_enabled` and `annotations_allowlist` say so.
// docs/configuration.md lists every key.

#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace reaper {

// How workloads are grouped into overlays: one group per Kubernetes
// namespace (optionally split by the overlay-name annotation), or one for the
// whole node.
enum class OverlayIsolation { per_namespace, per_node };

// Where a workload's /etc/resolv.conf comes from.
enum class DnsMode { host, kubernetes };

// Which network namespace a workload runs in: the host's, or the one the
// container runtime interface created for its pod (src/network/).
enum class NetworkMode { host, pod };

// Whether REAPER_FILTER_PATHS adds to the built-in list of masked paths or
// replaces it.
enum class FilterMode { append, replace };

std::string_view to_string(OverlayIsolation v);
std::string_view to_string(DnsMode v);
std::string_view to_string(FilterMode v);
std::string_view to_string(NetworkMode v);
// "host" or "pod" (any case); anything else is an error naming the choices.
Result<NetworkMode> parse_network_mode(std::string_view v);

struct NodeConfig {
  std::string config_path;  // the file that was read; empty when none was

  std::string state_root = "/run/reaper";  // REAPER_RUNTIME_ROOT
  std::string runtime_log;                 // REAPER_RUNTIME_LOG (file; empty: none)
  std::string shim_log;                    // REAPER_SHIM_LOG (file; empty: none)

  bool overlay_enabled = true;                                           // REAPER_OVERLAY_ENABLED
  OverlayIsolation overlay_isolation = OverlayIsolation::per_namespace;  // REAPER_OVERLAY_ISOLATION
  std::string overlay_base;    // REAPER_OVERLAY_BASE; empty: <state_root>/overlay
  std::string overlay_ns_dir;  // REAPER_OVERLAY_NS_DIR; empty: <state_root>/ns

  bool filter_enabled = true;                   // REAPER_FILTER_ENABLED
  FilterMode filter_mode = FilterMode::append;  // REAPER_FILTER_MODE
  std::vector<std::string> filter_paths;        // REAPER_FILTER_PATHS (colon-separated)
  std::vector<std::string> filter_allowlist;    // REAPER_FILTER_ALLOWLIST (colon-separated)

  DnsMode dns_mode = DnsMode::host;  // REAPER_DNS_MODE

  NetworkMode network_mode = NetworkMode::host;  // REAPER_NETWORK

  bool annotations_enabled = true;  // REAPER_ANNOTATIONS_ENABLED
  // REAPER_ANNOTATIONS_ALLOWLIST: which reaper.runtime/<key> annotations are
  // honoured (keys without the prefix); only "dns-mode", "overlay-name" and
  // "network" exist.
  std::vector<std::string> annotations_allowlist = {"dns-mode", "overlay-name", "network"};

  bool cgroups_enabled = true;  // REAPER_CGROUPS=enabled|disabled

  // Keys of the original Reaper that are accepted but have no effect here,
  // one message each, for the caller to log.
  std::vector<std::string> warnings;

  // The directories derived from state_root unless set explicitly.
  [[nodiscard]] std::string overlay_base_dir() const;
  [[nodiscard]] std::string ns_dir() const;
  // True when annotation reaper.runtime/<key> may be honoured.
  [[nodiscard]] bool annotation_allowed(std::string_view key) const;
};

inline constexpr std::string_view default_config_path = "/etc/reaper/reaper.conf";

// Loads REAPER_CONFIG (default /etc/reaper/reaper.conf: a missing default
// file is fine, a missing explicitly named one is an error; an empty
// REAPER_CONFIG reads no file), KEY=VALUE lines with `#` comments, only known
// REAPER_* keys (an unknown or repeated key is an error naming `file:line`).
// Then the REAPER_* variables of `envp` (the process environment) override
// the file; unknown REAPER_* variables in the environment are ignored.
Result<NodeConfig> load_node_config(const char* const* envp);

// The same from text, for tests and for callers that already hold the file:
// `origin` names it in errors.
Result<NodeConfig> parse_node_config(std::string_view text, std::string_view origin,
                                     const char* const* envp);

}  // namespace reaper
