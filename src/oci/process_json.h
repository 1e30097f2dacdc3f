#pragma once
// Writes an oci::Process back as OCI Process JSON (what `exec` hands to the
// monitor when the process was given on the command line).

#include <string>

#include "oci/spec.h"

namespace reaper::oci {

std::string to_json(const Process& p);

}  // namespace reaper::oci
