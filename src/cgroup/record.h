#pragma once
// cgroup.json in a container's state directory: where its cgroup is, written
// by the runtime core once it has created the cgroup (handover.h). Exec
// monitors join the directories it names; stats, update and the OOM watch
// read it. When the container ends the monitor records the final OOM kill
// count (read before the directories go) and then that the cgroup was
// removed; not for a `run` that deletes the state right after (--remove).
// Versioned JSON, written by temp file + rename like every record of the
// state store.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cgroup/layout.h"
#include "common/error.h"

namespace reaper::cgroup {

inline constexpr int record_version = 1;
inline constexpr const char* record_name = "cgroup.json";

struct RecordDir {
  std::string path;                      // absolute directory
  std::vector<std::string> controllers;  // v1: the hierarchy's; v2: empty
};

struct Record {
  Version version = Version::v2;
  std::string cgroups_path;  // linux.cgroupsPath as given
  std::vector<RecordDir> dirs;
  std::optional<uint64_t> final_oom_kills;  // set when the container ended
  bool removed = false;
};

std::string to_json(const Record& r);
Result<Record> parse_record(std::string_view json, std::string_view origin);

// <dirfd>/cgroup.json; nullopt when the container has no cgroup.
Result<std::optional<Record>> read_record(int dirfd);
// Before acting on a record read back from the state directory (which a
// root workload could rewrite through its view of /run): every directory
// must be on a cgroup filesystem and below a hierarchy's root, never the
// root itself (killing "everything in it" would mean the whole node).
Status verify_record(const Record& r);
Status write_record(int dirfd, const Record& r);

}  // namespace reaper::cgroup
