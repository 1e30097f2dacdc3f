#pragma once
// A container's cgroup, made by the runtime core (CLI or shim) while the
// monitor it just spawned starts up, then handed to it (cgroup/handover.h).
// A pod sandbox never gets here: it has no monitor and no cgroup of its own
// (the pod-level cgroup is kubelet's).

#include "cgroup/cgroup.h"
#include "common/config.h"
#include "common/error.h"
#include "oci/spec.h"

namespace reaper::runtime {

// Whether the container gets a cgroup: not with REAPER_CGROUPS=disabled,
// nor without linux.cgroupsPath (the CLI by hand), as the original.
bool wants_cgroup(const NodeConfig& config, const oci::Spec& spec);

// Creates the cgroup linux.cgroupsPath names in every hierarchy, applies
// linux.resources and writes cgroup.json into `container_dir`. The result
// owns the cgroup (removes it when it goes) until it is disowned.
Result<cgroup::Cgroup> create_container_cgroup(const oci::Spec& spec, int container_dir);

}  // namespace reaper::runtime
