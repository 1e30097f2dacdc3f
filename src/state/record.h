#pragma once
// The records a container leaves in the state store. Both are versioned JSON,
// written by temp file + rename so a reader sees the old or the new record,
// never half of one.
//
//   <root>/<id>/state.json            ProcessRecord of the init process
//   <root>/<id>/exit.json             ExitRecord, written once by its monitor
//   <root>/<id>/exec/<exec-id>/...    the same two for each exec process

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "common/error.h"

namespace reaper::state {

inline constexpr int record_version = 1;

struct ProcessRecord {
  std::string id;       // container id
  std::string exec_id;  // empty for the init process
  std::string bundle;
  pid_t pid = 0;               // the workload
  pid_t monitor_pid = 0;       // its reaper-monitor
  uint64_t monitor_start = 0;  // the monitor's start time (/proc/PID/stat field 22),
                               // so a reused pid is never mistaken for it
  int64_t created_ns = 0;      // wall clock, ns since the epoch
  bool terminal = false;
  bool sandbox = false;  // a pod sandbox simulated without a process
  std::string stdin_path, stdout_path, stderr_path;
  std::string overlay_group;  // empty: the workload runs in the host's view
  // The pod network namespace it joined (a sandbox: the one its spec names,
  // for its containers); empty: the host's network.
  std::string netns;
  std::map<std::string, std::string> annotations;
};

struct ExitRecord {
  int status = 0;         // exit code, or 128+signal
  int64_t exited_ns = 0;  // when the monitor reaped it, ns since the epoch
  std::string reason;  // "exited", "signaled", "exec-failed", "monitor-lost", "killed-before-start"
};

std::string to_json(const ProcessRecord& r);
std::string to_json(const ExitRecord& r);
Result<ProcessRecord> parse_process_record(std::string_view json, std::string_view origin);
Result<ExitRecord> parse_exit_record(std::string_view json, std::string_view origin);

// Wall-clock now in ns since the epoch.
int64_t now_ns();
// RFC 3339 with nanoseconds, UTC: 2026-11-25T15:31:23.123456789Z
std::string format_rfc3339(int64_t ns);

}  // namespace reaper::state
