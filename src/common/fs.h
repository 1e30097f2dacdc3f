#pragma once
// Small file helpers. Paths are quoted in backticks in every message.

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/fd.h"

namespace reaper::fs {

// Reads a whole regular file (refuses files larger than max_size). A symbolic
// link (at the last component) is not followed and anything but a regular
// file (FIFO, device, directory, socket) is refused without being opened,
// with a message naming the path and what it is.
Result<std::string> read_file(const std::string& path, size_t max_size = 16 << 20);
Result<std::string> read_file_at(int dirfd, const std::string& name, size_t max_size = 16 << 20);
// A file the kernel generates (procfs: /proc/<pid>/stat, cmdline,
// mountinfo, /proc/self/cgroup), which is never a FIFO or a device: a plain
// open and read, without read_file's O_PATH check and reopen through
// /proc/self/fd (two lookups in procfs fewer per file).
Result<std::string> read_kernel_file(const std::string& path, size_t max_size = 16 << 20);

// `name` below `dirfd` as a path for messages (the directory's path comes
// from /proc/self/fd); `name` itself for AT_FDCWD or an absolute name.
std::string path_at(int dirfd, const std::string& name);

// Writes `data` to `dir/name` atomically: a temp file in the same directory,
// fsync-free (state lives on tmpfs), then rename over the target. The
// directory is given as an fd so that no path component is re-resolved.
Status write_file_atomic_at(int dirfd, const std::string& name, std::string_view data,
                            mode_t mode = 0600);

// Writes all of `data` to fd, retrying on EINTR and short writes.
Status write_all(int fd, std::string_view data);

// Appends `line` (one write: lines of several processes do not mix) to the
// log file `path`, created 0600 if missing.
Status append_to_log(const std::string& path, std::string_view line);

// Creates a directory and its parents (mode for the ones it creates).
Status mkdir_p(const std::string& path, mode_t mode = 0700);

// The non-empty fields of `text` between `sep`s: ("a  b ", ' ') -> {"a", "b"}.
std::vector<std::string_view> split_nonempty(std::string_view text, char sep);
// The non-empty components of a path: "//a/./b/" -> {"a", ".", "b"}.
std::vector<std::string_view> path_components(std::string_view path);
// An absolute path without `.` or `..` components, duplicate and trailing
// slashes removed ("/" stays "/"). Errors name the path, after `what`
// ("source `x` is not an absolute path") when that is not empty.
Result<std::string> normalize_absolute(std::string_view path, std::string_view what = {});

// Opens a directory without following a symlink at its last component (a
// symlink there is refused as such).
Result<UniqueFd> open_dir(const std::string& path);
Result<UniqueFd> open_dir_at(int dirfd, const std::string& name);

}  // namespace reaper::fs
