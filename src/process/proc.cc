#include "process/proc.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <map>
#include <string>

#include "common/fd.h"
#include "common/fs.h"

namespace reaper::proc {

namespace {

bool parse_u64(std::string_view s, uint64_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

// Runs for every process of the node when the descendants are looked for:
// a plain open and read (fs::read_kernel_file).
Result<std::string> read_stat_text(pid_t pid) {
  return fs::read_kernel_file(fmt::format("/proc/{}/stat", pid), 4096);
}

}  // namespace

Result<Stat> read_stat(pid_t pid) {
  std::string text = REAPER_TRY(read_stat_text(pid));
  // "pid (comm) state ppid ...": comm may hold anything, so split at the last ')'.
  auto close = text.rfind(')');
  if (close == std::string::npos || close + 2 >= text.size())
    return make_error("/proc/{}/stat: unexpected format", pid);
  std::string_view rest(text);
  rest.remove_prefix(close + 2);
  std::vector<std::string_view> fields;  // fields[0] is field 3 (state)
  while (!rest.empty()) {
    auto sp = rest.find(' ');
    fields.push_back(rest.substr(0, sp));
    if (sp == std::string_view::npos) break;
    rest.remove_prefix(sp + 1);
  }
  if (fields.size() < 20) return make_error("/proc/{}/stat: too few fields", pid);
  Stat st;
  st.pid = pid;
  st.state = fields[0].empty() ? '?' : fields[0][0];
  uint64_t ppid = 0;
  if (!parse_u64(fields[1], ppid) || !parse_u64(fields[19], st.start_time))
    return make_error("/proc/{}/stat: bad number", pid);
  st.ppid = static_cast<pid_t>(ppid);
  if (fields.size() > 46 &&
      (!parse_u64(fields[45], st.arg_start) || !parse_u64(fields[46], st.arg_end)))
    return make_error("/proc/{}/stat: bad number", pid);
  return st;
}

bool is_same_process(pid_t pid, uint64_t start_time) {
  if (pid <= 0) return false;
  auto st = read_stat(pid);
  return st.ok() && st->start_time == start_time && st->state != 'Z' && st->state != 'X';
}

std::vector<pid_t> descendants(pid_t root) {
  std::multimap<pid_t, pid_t> children;  // ppid -> pid
  if (DIR* dir = ::opendir("/proc")) {
    while (dirent* e = ::readdir(dir)) {
      uint64_t pid = 0;
      if (!parse_u64(e->d_name, pid)) continue;
      auto st = read_stat(static_cast<pid_t>(pid));
      if (st.ok() && st->state != 'Z') children.emplace(st->ppid, st->pid);
    }
    ::closedir(dir);
  }
  std::vector<pid_t> out;
  std::vector<pid_t> todo{root};
  while (!todo.empty()) {
    pid_t p = todo.back();
    todo.pop_back();
    auto [b, e] = children.equal_range(p);
    for (auto it = b; it != e; ++it) {
      out.push_back(it->second);
      todo.push_back(it->second);
    }
  }
  return out;
}

Status rewrite_command_line(std::initializer_list<std::string_view> argv) {
  auto st = REAPER_TRY(read_stat(::getpid()));
  if (st.arg_end <= st.arg_start) return make_error("/proc/self/stat: no command line to rewrite");
  // Our own memory: the strings the kernel placed on the stack at exec.
  auto* room = reinterpret_cast<char*>(st.arg_start);  // NOLINT(performance-no-int-to-ptr)
  size_t size = st.arg_end - st.arg_start;
  std::string text;
  for (auto a : argv) {
    text.append(a);
    text.push_back('\0');
  }
  text.resize(size, '\0');  // cut or padded; the last byte stays a NUL
  text.back() = '\0';
  std::copy(text.begin(), text.end(), room);
  return {};
}

}  // namespace reaper::proc
