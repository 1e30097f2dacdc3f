#pragma once
// The network namespace a container's processes join, as the runtime core
// decides it at create (src/network/ has the mode and the checks).

#include <string>
#include <string_view>

#include "common/error.h"
#include "oci/spec.h"
#include "runtime/container.h"

namespace reaper::runtime {

// The annotation CRI puts on every container of a pod: the sandbox's id.
inline constexpr std::string_view sandbox_id_annotation = "io.kubernetes.cri.sandbox-id";

// Empty: the host's network. In pod mode, the path of the spec's network
// namespace, with one translation: CRI names an app container's network
// namespace through its sandbox's pause process, `/proc/<sandbox pid>/ns/net`.
// A simulated sandbox reports pid 1, so that path is the host's namespace;
// the pod's own (`/var/run/netns/cni-...`, which CRI gave the sandbox's spec)
// is taken from the sandbox's record instead. A sandbox without one (its
// spec named none: a hostNetwork pod) is an error. Anything else is left to
// the monitor's checks, which refuse the host's namespace.
Result<std::string> pod_netns_for(const Context& ctx, const oci::Spec& spec);

}  // namespace reaper::runtime
