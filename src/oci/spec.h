#pragma once
// The parts of an OCI runtime spec (config.json) and of a standalone OCI
// Process (exec) that reaper uses, as plain validated structs. Parsing is
// strict about types and required fields and names the JSON path of any
// error (`process.user.uid: expected unsigned integer`); unknown fields are
// ignored, as the spec requires.

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace reaper::oci {

struct User {
  uid_t uid = 0;
  gid_t gid = 0;
  std::optional<mode_t> umask;
  std::vector<gid_t> additional_gids;
};

// Capability names as in the spec ("CAP_CHOWN"); validated to be known names.
struct Capabilities {
  std::vector<std::string> bounding, effective, inheritable, permitted, ambient;
};

struct Rlimit {
  std::string type;  // "RLIMIT_NOFILE"; validated
  uint64_t hard = 0;
  uint64_t soft = 0;
};

struct ConsoleSize {
  unsigned height = 0;
  unsigned width = 0;
};

struct Process {
  bool terminal = false;
  std::optional<ConsoleSize> console_size;
  User user;
  std::vector<std::string> args;             // required, non-empty
  std::vector<std::string> env;              // "KEY=VALUE" entries, in order
  std::string cwd = "/";                     // must be absolute
  std::optional<Capabilities> capabilities;  // absent: leave the caller's as they are
  std::vector<Rlimit> rlimits;
  bool no_new_privileges = false;
  std::optional<int> oom_score_adj;
};

struct Mount {
  std::string destination;  // required, absolute
  std::string type;         // may be empty
  std::string source;
  std::vector<std::string> options;
};

struct Namespace {
  std::string type;  // "network", "mount", ...
  std::string path;  // may be empty
};

struct Spec {
  std::string oci_version;
  std::optional<Process> process;  // required by create; optional in the spec
  std::string root_path;           // root.path, may be empty (unused by default)
  bool root_readonly = false;
  std::string hostname;  // recorded, not applied
  std::vector<Mount> mounts;
  std::map<std::string, std::string> annotations;
  std::string cgroups_path;           // linux.cgroupsPath
  std::string resources_json;         // linux.resources, raw JSON kept for the cgroups code
  std::vector<Namespace> namespaces;  // linux.namespaces
};

// Parses config.json text. `origin` names the source in errors (a path): the
// message is "<origin>: <JSON path>: <problem>", e.g.
// "config.json: process.user.uid: expected unsigned integer".
Result<Spec> parse_spec(std::string_view json, std::string_view origin);
// Parses a standalone Process object (exec's --process file, the shim's Exec
// spec); JSON paths in errors are relative to it ("args: must not be empty").
Result<Process> parse_process(std::string_view json, std::string_view origin);
// Reads and parses `<bundle>/config.json`; the origin in errors is the
// path in backticks.
Result<Spec> load_spec(const std::string& bundle);

// Signal names ("SIGTERM", "TERM", "term", "SIGRTMIN+3", "RTMAX-1") and
// numbers 1..64 to numbers; errors on anything else.
Result<int> parse_signal(std::string_view text);

// "CAP_CHOWN" -> 0 (CAP_CHOWN), up to CAP_CHECKPOINT_RESTORE (40); nullopt for
// names Linux 6.x does not know. Exact spelling, as the spec writes them.
std::optional<int> capability_number(std::string_view name);
// "RLIMIT_NOFILE" -> RLIMIT_NOFILE, for setrlimit/prlimit; nullopt if unknown.
std::optional<int> rlimit_resource(std::string_view type);

}  // namespace reaper::oci
