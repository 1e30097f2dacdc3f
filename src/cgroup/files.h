#pragma once
// A cgroup directory held open by fd, and the text formats of its files.
// Everything after creation goes through the fd (openat), so a monitor that
// has since entered another mount namespace still reaches its cgroup, and
// messages name the file by path: write `/sys/fs/cgroup/memory/x/memory.limit_in_bytes`.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/fd.h"

namespace reaper::cgroup {

class CgroupDir {
 public:
  CgroupDir() = default;
  static Result<CgroupDir> open(std::string path);
  // A directory already open (received from another process: handover.h).
  static CgroupDir from_fd(std::string path, UniqueFd fd) {
    return CgroupDir(std::move(path), std::move(fd));
  }
  // A subdirectory, by name.
  [[nodiscard]] Result<CgroupDir> open_sub(std::string_view name) const;

  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] int fd() const { return fd_.get(); }
  [[nodiscard]] bool valid() const { return fd_.valid(); }

  [[nodiscard]] Result<std::string> read(std::string_view file) const;
  // Writes the whole value in one write(2), as the kernel wants it.
  [[nodiscard]] Status write(std::string_view file, std::string_view value) const;
  [[nodiscard]] bool exists(std::string_view file) const;
  // Opens a file of the directory (O_CLOEXEC added).
  [[nodiscard]] Result<UniqueFd> open_file(std::string_view file, int flags) const;

 private:
  CgroupDir(std::string path, UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}
  std::string path_;
  UniqueFd fd_;
};

std::vector<std::string_view> split(std::string_view s, char sep);
std::string_view trim(std::string_view s);
std::optional<uint64_t> parse_u64(std::string_view s);
// A limit file: a number, or "max" (v2) -> nullopt.
std::optional<uint64_t> parse_limit(std::string_view s);
// "key value" lines (memory.stat, cpu.stat, memory.events, memory.oom_control);
// lines that do not parse are skipped.
std::map<std::string, uint64_t, std::less<>> parse_keyed(std::string_view text);
// cgroup.procs: one pid per line.
std::vector<pid_t> parse_pids(std::string_view text);

}  // namespace reaper::cgroup
