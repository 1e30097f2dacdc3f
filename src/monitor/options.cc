#include "monitor/options.h"

#include <charconv>
#include <string_view>

namespace reaper::monitor {

Result<int> parse_preserve_fds(std::string_view text) {
  int n = -1;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || p != text.data() + text.size() || n < 0 || n > max_preserved_fds)
    return errno_error(EINVAL, "--preserve-fds: `{}` is not a count of fds from 0 to {}", text,
                       max_preserved_fds);
  return n;
}

Result<Options> parse_options(Args args) {
  Options o;
  for (size_t i = 1; i < args.size(); ++i) {
    std::string_view flag = args[i];
    if (flag == "--start" || flag == "--remove" || flag == "--report-exit") {  // no value
      (flag == "--start" ? o.start : flag == "--remove" ? o.remove : o.report_exit) = true;
      continue;
    }
    if (i + 1 >= args.size()) return make_error("option `{}` needs a value", flag);
    std::string value = args[++i];
    if (flag == "--root")
      o.root = value;
    else if (flag == "--id")
      o.id = value;
    else if (flag == "--exec-id")
      o.exec_id = value;
    else if (flag == "--bundle")
      o.bundle = value;
    else if (flag == "--console-socket")
      o.console_socket = value;
    else if (flag == "--overlay-group")
      o.overlay_group = value;
    else if (flag == "--netns")
      o.netns = value;
    else if (flag == "--stdin") {
      o.stdin_path = value;
      o.have_stdio_paths = true;
    } else if (flag == "--stdout") {
      o.stdout_path = value;
      o.have_stdio_paths = true;
    } else if (flag == "--stderr") {
      o.stderr_path = value;
      o.have_stdio_paths = true;
    } else if (flag == "--preserve-fds") {
      auto n = parse_preserve_fds(value);
      if (!n) return std::move(n).error();
      o.preserve_fds = *n;
    } else if (flag == "--sync-fd" || flag == "--cgroup-fd") {
      int& fd = flag == "--sync-fd" ? o.sync_fd : o.cgroup_fd;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), fd);
      if (ec != std::errc() || p != value.data() + value.size() || fd < 3)
        return make_error("{}: `{}` is not a file descriptor number >= 3", flag, value);
    } else {
      return make_error("unknown option `{}`", flag);
    }
  }
  if (o.root.empty() || o.id.empty() || o.bundle.empty() || o.sync_fd < 0)
    return make_error("--root, --id, --bundle and --sync-fd are required");
  if (o.remove && !o.exec_id.empty()) return make_error("--remove is for an init process");
  if (o.report_exit && !o.start) return make_error("--report-exit needs --start");
  if (o.sync_fd < 3 + o.preserve_fds)
    return make_error("--sync-fd {} is among the {} preserved fds (3-{})", o.sync_fd,
                      o.preserve_fds, 2 + o.preserve_fds);
  if (o.cgroup_fd >= 0) {
    if (!o.exec_id.empty()) return make_error("--cgroup-fd is for an init process");
    if (o.cgroup_fd == o.sync_fd) return make_error("--cgroup-fd and --sync-fd are the same fd");
    if (o.cgroup_fd < 3 + o.preserve_fds)
      return make_error("--cgroup-fd {} is among the {} preserved fds (3-{})", o.cgroup_fd,
                        o.preserve_fds, 2 + o.preserve_fds);
  }
  return o;
}

}  // namespace reaper::monitor
