#pragma once
// The stdio of a task as containerd names it, turned into what a monitor
// opens. Plain paths are FIFOs made by the client (ctr's cio, CRI) or empty
// (no stream); `ctr run --log-uri` passes the same URI as stdout and stderr:
//
//   file:///abs/path             output appended to that file (created 0600)
//   binary:///abs/prog?k=v&k2=v2 the program is started with args `k v k2 v2`,
//                                env CONTAINER_ID and CONTAINER_NAMESPACE,
//                                stdout on fd 3, stderr on fd 4 and a ready
//                                pipe on fd 5: the task is created once it
//                                closed fd 5 (it may write a byte first).
//
// In every case the workload writes its destination directly; the shim has
// no copy loop in the data path. For binary:// the workload writes FIFOs
// whose read ends the logging program holds; they are made in a private
// directory and unlinked once the monitor has opened them.

#include <sys/types.h>

#include <string>

#include "common/error.h"
#include "common/fd.h"
#include "runtime/container.h"

namespace reaper::shim {

struct LogUri {
  enum class Kind { path, file, binary } kind = Kind::path;
  std::string path;               // the FIFO, the file or the program
  std::vector<std::string> args;  // binary: query pairs, in order
};

// Parses one stdio string; `what` names it in errors ("stdout").
Result<LogUri> parse_log_uri(const std::string& text, std::string_view what);

// The stdio of one process, ready for runtime::create / create_exec. Keep it
// until the create call returned: its destructor removes the private FIFOs.
class PreparedStdio {
 public:
  struct Request {
    std::string stdin_path, stdout_uri, stderr_uri;
    std::string container_id, ns;
    std::string fifo_dir;  // where binary:// FIFOs are made (must exist)
  };
  static Result<PreparedStdio> prepare(const Request& req);

  PreparedStdio() = default;
  PreparedStdio(PreparedStdio&& other) noexcept;
  PreparedStdio& operator=(PreparedStdio&& other) noexcept;
  PreparedStdio(const PreparedStdio&) = delete;
  PreparedStdio& operator=(const PreparedStdio&) = delete;
  ~PreparedStdio();

  [[nodiscard]] const runtime::StdioSpec& spec() const { return spec_; }
  // The logging program, when one was started (0 otherwise). Its exit is
  // the shim's to reap, like every child of the shim.
  [[nodiscard]] pid_t logger() const { return logger_; }
  // Creation failed: stop the logging program we started.
  void abandon();

 private:
  runtime::StdioSpec spec_;
  std::vector<std::string> fifos_;
  // Write handles on the logger's FIFOs until the monitor has its own:
  // without a writer, the logger would read EOF at once.
  std::vector<UniqueFd> writers_;
  pid_t logger_ = 0;
};

}  // namespace reaper::shim
