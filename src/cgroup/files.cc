#include "cgroup/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>

namespace reaper::cgroup {

Result<CgroupDir> CgroupDir::open(std::string path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return sys_error("open cgroup `{}`", path);
  return CgroupDir(std::move(path), std::move(fd));
}

Result<CgroupDir> CgroupDir::open_sub(std::string_view name) const {
  std::string sub(name);
  UniqueFd fd(::openat(fd_.get(), sub.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
  std::string path = path_ == "/" ? "/" + sub : fmt::format("{}/{}", path_, sub);
  if (!fd) return sys_error("open cgroup `{}`", path);
  return CgroupDir(std::move(path), std::move(fd));
}

Result<UniqueFd> CgroupDir::open_file(std::string_view file, int flags) const {
  std::string name(file);
  UniqueFd fd(::openat(fd_.get(), name.c_str(), flags | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return sys_error("open `{}/{}`", path_, file);
  return fd;
}

Result<std::string> CgroupDir::read(std::string_view file) const {
  UniqueFd fd = REAPER_TRY(open_file(file, O_RDONLY));
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("read `{}/{}`", path_, file);
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > (4 << 20)) return make_error("`{}/{}`: larger than 4 MiB", path_, file);
  }
}

Status CgroupDir::write(std::string_view file, std::string_view value) const {
  UniqueFd fd = REAPER_TRY(open_file(file, O_WRONLY | O_TRUNC));
  ssize_t n = 0;
  do {
    n = ::write(fd.get(), value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return sys_error("write `{}` to `{}/{}`", value, path_, file);
  if (static_cast<size_t>(n) != value.size())
    return make_error("write `{}` to `{}/{}`: short write", value, path_, file);
  return {};
}

bool CgroupDir::exists(std::string_view file) const {
  struct stat st {};
  return ::fstatat(fd_.get(), std::string(file).c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  for (;;) {
    size_t next = s.find(sep, pos);
    out.push_back(s.substr(pos, next == std::string_view::npos ? next : next - pos));
    if (next == std::string_view::npos) return out;
    pos = next + 1;
  }
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

std::optional<uint64_t> parse_u64(std::string_view s) {
  s = trim(s);
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<uint64_t> parse_limit(std::string_view s) {
  if (trim(s) == "max") return std::nullopt;
  return parse_u64(s);
}

std::map<std::string, uint64_t, std::less<>> parse_keyed(std::string_view text) {
  std::map<std::string, uint64_t, std::less<>> out;
  for (std::string_view line : split(text, '\n')) {
    auto sp = line.find(' ');
    if (sp == std::string_view::npos) continue;
    if (auto v = parse_u64(line.substr(sp + 1))) out.emplace(std::string(line.substr(0, sp)), *v);
  }
  return out;
}

std::vector<pid_t> parse_pids(std::string_view text) {
  std::vector<pid_t> out;
  for (std::string_view line : split(text, '\n')) {
    auto v = parse_u64(line);
    if (v && *v > 0 && *v <= 0x3fffffff) out.push_back(static_cast<pid_t>(*v));
  }
  return out;
}

}  // namespace reaper::cgroup
