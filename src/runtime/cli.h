#pragma once
// Shared pieces of the reaper-runtime command line: global flags, a small
// flag parser, and error reporting. Each verb lives in its own file and only
// parses its arguments and calls the runtime core (runtime/container.h).

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "runtime/container.h"

namespace reaper::cli {

struct Globals {
  std::string root;
  std::string log;                  // also append errors to this file
  std::string log_format = "text";  // text | json
  bool debug = false;
  bool systemd_cgroup = false;  // accepted for runc compatibility
};

struct Invocation {
  Globals globals;
  const char* const* envp = nullptr;
  std::string verb;
  std::vector<std::string> args;  // after the verb
};

// A flag: "bundle|b" names --bundle and -b; `value` says it takes one.
struct FlagSpec {
  std::string_view names;
  bool value = false;
};

class Flags {
 public:
  // Parses --x v, --x=v, -x v and booleans; "--" ends the flags and
  // everything after it is positional. Unknown flags are errors.
  static Result<Flags> parse(const std::vector<std::string>& args,
                             std::initializer_list<FlagSpec> specs);
  [[nodiscard]] bool has(std::string_view name) const {
    return values_.count(std::string(name)) != 0;
  }
  [[nodiscard]] std::string get(std::string_view name, std::string fallback = {}) const;
  [[nodiscard]] std::vector<std::string> all(std::string_view name) const;
  std::vector<std::string> positional;

 private:
  std::multimap<std::string, std::string> values_;  // canonical (first) name -> value
};

// Prints `reaper-runtime: <error>` (and appends it to --log); returns 1.
int fail(const Invocation& inv, const Error& e);
// Requires exactly `n` positional arguments, named in `usage`.
Status expect_positional(const Flags& f, size_t n, std::string_view usage);
Result<runtime::Context> context(const Invocation& inv);

// The verbs.
int cmd_create(const Invocation& inv);
int cmd_start(const Invocation& inv);
int cmd_state(const Invocation& inv);
int cmd_kill(const Invocation& inv);
int cmd_delete(const Invocation& inv);
int cmd_exec(const Invocation& inv);
int cmd_run(const Invocation& inv);
int cmd_list(const Invocation& inv);
int cmd_ps(const Invocation& inv);
int cmd_features(const Invocation& inv);
int cmd_overlay(const Invocation& inv);
int cmd_update(const Invocation& inv);
int cmd_events(const Invocation& inv);

}  // namespace reaper::cli

namespace reaper::cli {
// The CreateRequest common to `create` and `run`: id, --bundle (default .),
// --console-socket, --namespace, --preserve-fds and the reaper extension
// --stdin/--stdout/--stderr (paths of FIFOs or files, as the shim passes
// them). Before anything is opened (see preserved_fds()).
Result<runtime::CreateRequest> create_request(const Flags& f);
// --preserve-fds N (create, run, exec): the caller's fds 3 to 3+N-1 go to
// the workload; each must be open. Checked before the CLI opens an fd of
// its own, which could otherwise fill a hole in that range.
Result<int> preserved_fds(const Flags& f);
// Flags that `create` and `run` both take.
#define REAPER_CREATE_FLAGS                                                                    \
  {"bundle|b", true}, {"pid-file", true}, {"console-socket", true}, {"namespace|n", true},     \
      {"stdin", true}, {"stdout", true}, {"stderr", true}, {"no-pivot"}, {"no-new-keyring"}, { \
    "preserve-fds", true                                                                       \
  }
// Writes `pid` to `path` atomically (temp file + rename in the same directory).
Status write_pid_file(const std::string& path, pid_t pid);
// Prints a process's state as OCI state JSON.
std::string state_json(const runtime::ProcessState& st);
}  // namespace reaper::cli
