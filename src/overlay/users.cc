// Who uses a group: one line per process that entered it, in
// <ns dir>/.users/<group>, rewritten atomically under the group's lock:
//
//   reaper-overlay-users 1
//   <container-id> <pid> <start-time> <namespace-inode>[ <mount-id>=<destination>]...
//
// Destinations are %-escaped (bytes <= 0x20, 0x7f, `%`, `=`). A process that
// is gone no longer counts as a user; its mounts are cleaned up by the next
// enter() or release() (see enter.cc).

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <charconv>

#include "common/fs.h"
#include "overlay/internal.h"
#include "overlay/kernel.h"
#include "process/proc.h"

namespace reaper::overlay {

namespace {

constexpr std::string_view users_header = "reaper-overlay-users 1";

std::string escape(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c <= 0x20 || c == 0x7f || c == '%' || c == '=') {
      out += fmt::format("%{:02X}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool unescape(std::string_view s, std::string& out) {
  out.clear();
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return false;
    int hi = hex(s[i + 1]);
    int lo = hex(s[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

template <typename T>
bool parse_num(std::string_view s, T& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

Result<FileLock> FileLock::acquire(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) return sys_error("open lock `{}`", path);
  // Blocks until the holder is done: the kernel wakes us, nothing polls.
  while (::flock(fd.get(), LOCK_EX) < 0) {
    if (errno != EINTR) return sys_error("lock `{}`", path);
  }
  return FileLock(std::move(fd));
}

bool UserEntry::alive() const {
  return proc::is_same_process(pid, start_time);
}

std::string format_users(const std::vector<UserEntry>& users) {
  std::string out(users_header);
  out += '\n';
  for (const auto& u : users) {
    out += fmt::format("{} {} {} {}", u.container_id, u.pid, u.start_time, u.ns_inode);
    for (const auto& m : u.mounts) out += fmt::format(" {}={}", m.mount_id, escape(m.dest));
    out += '\n';
  }
  return out;
}

Result<std::vector<UserEntry>> parse_users(std::string_view text, std::string_view origin) {
  std::vector<UserEntry> out;
  size_t pos = 0;
  size_t line_no = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (line_no == 1) {
      if (line != users_header) return make_error("{}: not a users file (bad header)", origin);
      continue;
    }
    if (line.empty()) continue;
    auto f = fs::split_nonempty(line, ' ');
    UserEntry u;
    if (f.size() < 4 || !parse_num(f[1], u.pid) || !parse_num(f[2], u.start_time) ||
        !parse_num(f[3], u.ns_inode))
      return make_error("{}:{}: malformed entry", origin, line_no);
    u.container_id = std::string(f[0]);
    for (size_t i = 4; i < f.size(); ++i) {
      auto eq = f[i].find('=');
      UserMount m;
      if (eq == std::string_view::npos || !parse_num(f[i].substr(0, eq), m.mount_id) ||
          !unescape(f[i].substr(eq + 1), m.dest))
        return make_error("{}:{}: malformed mount `{}`", origin, line_no, f[i]);
      u.mounts.push_back(std::move(m));
    }
    out.push_back(std::move(u));
  }
  return out;
}

Result<std::vector<UserEntry>> read_users(int users_dirfd, const std::string& group) {
  auto text = fs::read_file_at(users_dirfd, group, 4 << 20);
  if (!text.ok()) {
    if (text.error().err() == ENOENT) return std::vector<UserEntry>();
    return std::move(text).error().wrap("read users");
  }
  return parse_users(*text, fmt::format("users of `{}`", group));
}

Status write_users(int users_dirfd, const std::string& group, const std::vector<UserEntry>& users) {
  if (users.empty()) {
    if (::unlinkat(users_dirfd, group.c_str(), 0) < 0 && errno != ENOENT)
      return sys_error("remove users of `{}`", group);
    return {};
  }
  return kernel::replace_file_at(users_dirfd, group, format_users(users), 0600, 0, 0);
}

Result<UserEntry> self_entry(std::string_view container_id) {
  UserEntry u;
  u.container_id = std::string(container_id);
  u.pid = ::getpid();
  auto st = REAPER_TRY(proc::read_stat(u.pid));
  u.start_time = st.start_time;
  return u;
}

}  // namespace reaper::overlay
