#pragma once
// The network a workload runs in. By default a reaper workload uses the
// host's network, like every host process. In `pod` mode (REAPER_NETWORK=pod,
// or the pod annotation reaper.runtime/network: pod where the administrator
// allows it) it joins the network namespace the container runtime interface
// created for its pod: the `network` entry with a path in the spec's
// linux.namespaces. Nothing else changes: the mount view stays the group's
// overlay, and no other namespace is entered.
//
// mode.cc decides (pure, no system calls); netns.cc opens, checks and joins.
// A pod network that cannot be had is an error, never a silent fallback to
// the host's network.

#include <map>
#include <string>
#include <string_view>

#include "common/config.h"
#include "common/error.h"
#include "common/fd.h"
#include "oci/spec.h"

namespace reaper::network {

inline constexpr std::string_view network_annotation = "reaper.runtime/network";

// The network mode of a container: the network annotation where the
// administrator allows it (REAPER_ANNOTATIONS_*; an empty value is unset),
// else the node's REAPER_NETWORK. An annotation value other than host|pod
// (any case) is an error.
Result<NetworkMode> mode_for(const NodeConfig& cfg,
                             const std::map<std::string, std::string>& annotations);

// The network namespace a container's processes join: empty for the host's
// network; in pod mode the path of the spec's `network` namespace. Pod mode
// with no such path (no `network` entry, as for a hostNetwork pod, or one
// without a path, which would ask for a new namespace) is an error that says
// where the mode came from. Nothing is opened here.
Result<std::string> netns_path_for(const NodeConfig& cfg, const oci::Spec& spec);

// The path of the spec's `network` namespace; empty when it has none or
// one without a path. Whatever the mode (a pod sandbox records it for its
// containers).
std::string spec_netns_path(const oci::Spec& spec);

// Opens a network namespace file for join(). The path is first opened
// O_PATH and checked to be on nsfs (so a FIFO or a device named there is
// never opened for reading), then reopened and checked with NS_GET_NSTYPE to
// be a network namespace. Errors name the path and the reason: it is
// missing or unreadable, not a namespace file, or another kind of namespace.
Result<UniqueFd> open_netns(const std::string& path);
// open_netns(), refusing the namespace the caller itself is in (the host's):
// joining it would be the host's network under the name of the pod's.
Result<UniqueFd> open_pod_netns(const std::string& path);

// Makes the calling process a member of the network namespace `fd` (from
// open_netns). Needs CAP_SYS_ADMIN: call it before the workload's identity
// is applied.
Status join(int fd);

}  // namespace reaper::network
