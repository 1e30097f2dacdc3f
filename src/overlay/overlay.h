#pragma once
// Host protection: every workload runs in the mount namespace of its overlay
// group, where `/` is an overlayfs (lower: the host's root, upper/work under
// <overlay base>/<group>/), /proc /sys /dev /run are the host's, sensitive
// host files are masked, and the container's bind mounts and DNS file are
// applied. Writes to the rest of the tree never reach the host's files.
// docs/security.md says what this protects and what it does not.
//
// Group names: `<namespace>` or `<namespace>.<overlay-name>` (Kubernetes
// namespaces and overlay names are DNS labels, which cannot contain `.`, so
// the two can never be confused), or `_node` in node isolation mode.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"
#include "common/error.h"
#include "oci/spec.h"
#include "overlay/image.h"

namespace reaper::overlay {

inline constexpr std::string_view namespace_annotation = "io.kubernetes.cri.sandbox-namespace";
inline constexpr std::string_view overlay_name_annotation = "reaper.runtime/overlay-name";
inline constexpr std::string_view dns_mode_annotation = "reaper.runtime/dns-mode";
inline constexpr std::string_view node_group = "_node";

// Decides the overlay group of a container: from the namespace annotation
// containerd sets (or the CLI's --namespace; both given and different is an
// error), plus the overlay-name annotation where the administrator allows
// annotations. Without either, `fallback_namespace` (the shim passes
// containerd's namespace). Errors when namespace mode has no namespace, and on names that
// are not DNS labels. Returns an empty string when the overlay is disabled
// (REAPER_OVERLAY_ENABLED=false): such workloads see the host's mounts as
// they are, and enter() must not be called.
Result<std::string> group_for(const NodeConfig& cfg,
                              const std::map<std::string, std::string>& annotations,
                              std::string_view cli_namespace,
                              std::string_view fallback_namespace = {});

// The DNS mode of a container: the dns-mode annotation where allowed, else
// the node's. An invalid annotation value is an error.
Result<DnsMode> dns_mode_for(const NodeConfig& cfg,
                             const std::map<std::string, std::string>& annotations);

// True for names group_for() can return (used to validate admin input).
Status validate_group(std::string_view group);

// Called in the monitor (root, single-threaded, in the host mount namespace,
// before it forks the workload). Under the group's lock: creates and persists
// the group's namespace if it does not exist yet (concurrent first workloads
// end in exactly one), joins it (setns + chroot to its root, checked to be
// an overlayfs), applies the container's bind mounts and DNS file, and
// records the caller as a user of the group. The first enter() of a container
// applies its mounts and DNS; later ones for the same container id while it
// is still recorded (exec processes) only join.
// After it returns, the caller's root and cwd are `/` of the view. On error
// nothing is recorded, mounts made so far are undone, and the message names
// the step: ``overlay `default`: mount overlayfs on `/run/reaper/overlay/default/merged`: ...``.
// The caller must refuse to run the workload then (its mount namespace may
// already be the view).
// `image` (overlay/image.h), for the container's first enter(): its rootfs
// is mounted read-only at image->dest like a volume, and released with them.
Status enter(const NodeConfig& cfg, const std::string& group, const oci::Spec& spec,
             std::string_view container_id, const std::optional<Image>& image = std::nullopt);

// Drops the records of `container_id` made by the calling process and by
// processes that no longer exist, and unmounts the bind mounts they made that
// are still in place (from inside the view when the caller is in it, else
// through a short-lived child that joins it). Callable from the monitor when
// its process ends or from `delete` afterwards; a no-op for an empty group.
Status release(const NodeConfig& cfg, const std::string& group, std::string_view container_id);

// `reaper-runtime overlay list | reset <group> [--force] | gc`: `args` are the
// words after `overlay`. Prints to stdout (errors to stderr) and returns the
// process exit code (0 ok, 1 failure, 2 usage).
int admin_command(const NodeConfig& cfg, const std::vector<std::string>& args);

}  // namespace reaper::overlay
