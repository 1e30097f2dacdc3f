#include "shim/stdio_uri.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "common/fd.h"
#include "common/spawn.h"

namespace reaper::shim {

namespace {

// How long a logging program may take to close its ready pipe. containerd's
// own shims wait without bound; a stuck logger must not hang Create forever.
constexpr int logger_ready_timeout_ms = 10'000;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> percent_decode(std::string_view s, std::string_view what) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    int hi = i + 2 < s.size() ? hex_value(s[i + 1]) : -1;
    int lo = i + 2 < s.size() ? hex_value(s[i + 2]) : -1;
    if (hi < 0 || lo < 0) return make_error("{}: bad percent escape at offset {}", what, i);
    char c = static_cast<char>(hi * 16 + lo);
    if (c == '\0') return make_error("{}: NUL byte (%00) at offset {}", what, i);
    out.push_back(c);
    i += 2;
  }
  return out;
}

Status clear_nonblock(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) return sys_error("fcntl");
  return {};
}

// Blocks (bounded) until the logging program closed its ready pipe.
Status wait_ready(int fd, const std::string& prog) {
  char buf[64];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    int n = ::poll(&p, 1, logger_ready_timeout_ms);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("wait for logging program `{}`", prog);
    if (n == 0)
      return errno_error(ETIMEDOUT,
                         "logging program `{}` did not close its ready pipe (fd 5) "
                         "within {} s",
                         prog, logger_ready_timeout_ms / 1000);
    ssize_t r = ::read(fd, buf, sizeof buf);
    if (r == 0) return {};
    if (r < 0 && errno != EINTR && errno != EAGAIN)
      return sys_error("read the ready pipe of `{}`", prog);
  }
}

}  // namespace

Result<LogUri> parse_log_uri(const std::string& text, std::string_view what) {
  LogUri uri;
  auto sep = text.find("://");
  if (sep == std::string::npos) {
    uri.path = text;  // a plain path (a FIFO), or empty
    if (!text.empty() && text[0] != '/')
      return make_error("{} `{}`: not an absolute path", what, text);
    return uri;
  }
  std::string_view scheme(text.data(), sep);
  std::string_view rest(text.data() + sep + 3, text.size() - sep - 3);
  if (scheme == "file" || scheme == "fifo") {
    uri.kind = scheme == "file" ? LogUri::Kind::file : LogUri::Kind::path;
  } else if (scheme == "binary") {
    uri.kind = LogUri::Kind::binary;
  } else {
    return make_error("{} `{}`: unsupported scheme `{}` (file://, binary:// or a FIFO path)", what,
                      text, scheme);
  }
  auto query_at = rest.find('?');
  std::string_view raw_path = rest.substr(0, query_at);
  std::string_view query = query_at == std::string_view::npos ? "" : rest.substr(query_at + 1);
  if (raw_path.empty() || raw_path[0] != '/')
    return make_error("{} `{}`: the URI must name an absolute path with an empty host ({}:///path)",
                      what, text, scheme);
  uri.path = REAPER_TRY(percent_decode(raw_path, what));
  if (uri.kind != LogUri::Kind::binary && !query.empty())
    return make_error("{} `{}`: a {}:// URI takes no query", what, text, scheme);
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? "" : query.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    uri.args.push_back(REAPER_TRY(percent_decode(pair.substr(0, eq), what)));
    if (eq != std::string_view::npos)
      uri.args.push_back(REAPER_TRY(percent_decode(pair.substr(eq + 1), what)));
  }
  return uri;
}

PreparedStdio::PreparedStdio(PreparedStdio&& other) noexcept
    : spec_(std::move(other.spec_)),
      fifos_(std::exchange(other.fifos_, {})),
      writers_(std::move(other.writers_)),
      logger_(std::exchange(other.logger_, 0)) {}

PreparedStdio& PreparedStdio::operator=(PreparedStdio&& other) noexcept {
  if (this != &other) {
    PreparedStdio old(std::move(*this));  // ours go away with `old`
    spec_ = std::move(other.spec_);
    fifos_ = std::exchange(other.fifos_, {});
    writers_ = std::move(other.writers_);
    logger_ = std::exchange(other.logger_, 0);
  }
  return *this;
}

PreparedStdio::~PreparedStdio() {
  // The FIFOs were only names to hand the monitor; the open ends live on.
  for (auto it = fifos_.rbegin(); it != fifos_.rend(); ++it) {
    if (::unlink(it->c_str()) < 0 && errno == EISDIR) ::rmdir(it->c_str());
  }
}

void PreparedStdio::abandon() {
  // Our child, not reaped yet (reaping happens in the loop after this call),
  // so the pid cannot have been reused.
  if (logger_ > 0) ::kill(logger_, SIGKILL);
  logger_ = 0;
}

Result<PreparedStdio> PreparedStdio::prepare(const Request& req) {
  PreparedStdio out;
  auto& spec = out.spec_;
  spec.inherit = false;
  auto in = REAPER_TRY(parse_log_uri(req.stdin_path, "stdin"));
  if (in.kind != LogUri::Kind::path)
    return make_error("stdin `{}`: only a FIFO path can be a task's stdin", req.stdin_path);
  spec.in = in.path;
  auto out_uri = REAPER_TRY(parse_log_uri(req.stdout_uri, "stdout"));
  auto err_uri = REAPER_TRY(parse_log_uri(req.stderr_uri, "stderr"));

  auto file_target = [](const LogUri& uri, std::string_view what) -> Result<std::string> {
    UniqueFd fd(
        ::open(uri.path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600));
    if (!fd) return sys_error("{}: log file `{}`", what, uri.path);
    return uri.path;
  };
  bool binary = out_uri.kind == LogUri::Kind::binary || err_uri.kind == LogUri::Kind::binary;
  if (binary) {
    if (req.stdout_uri != req.stderr_uri)
      return make_error("stdout `{}` and stderr `{}`: a binary:// log URI must be given for both",
                        req.stdout_uri, req.stderr_uri);
    std::string dir = req.fifo_dir + "/reaper-log-XXXXXX";
    if (::mkdtemp(dir.data()) == nullptr)
      return sys_error("make a FIFO directory in `{}`", req.fifo_dir);
    out.fifos_.push_back(dir);
    spec.out = dir + "/stdout";
    spec.err = dir + "/stderr";
    for (const auto* path : {&spec.out, &spec.err}) {
      if (::mkfifo(path->c_str(), 0600) < 0) return sys_error("mkfifo `{}`", *path);
      out.fifos_.push_back(*path);
    }
    UniqueFd out_r(::open(spec.out.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    UniqueFd err_r(::open(spec.err.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (!out_r || !err_r) return sys_error("open the log FIFOs in `{}`", dir);
    REAPER_TRY(clear_nonblock(out_r.get()));
    REAPER_TRY(clear_nonblock(err_r.get()));
    for (const auto* path : {&spec.out, &spec.err}) {
      out.writers_.emplace_back(::open(path->c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
      if (!out.writers_.back()) return sys_error("open `{}` for writing", *path);
    }
    int p[2];
    if (::pipe2(p, O_CLOEXEC) < 0) return sys_error("pipe");
    UniqueFd ready_r(p[0]);
    UniqueFd ready_w(p[1]);
    std::vector<std::string> argv{out_uri.path};
    argv.insert(argv.end(), out_uri.args.begin(), out_uri.args.end());
    std::string env_id = "CONTAINER_ID=" + req.container_id;
    std::string env_ns = "CONTAINER_NAMESPACE=" + req.ns;
    const char* envp[] = {env_id.c_str(), env_ns.c_str(), nullptr};
    out.logger_ =
        REAPER_TRY_CTX(spawn(SpawnRequest{out_uri.path,
                                          std::move(argv),
                                          envp,
                                          {{out_r.get(), 3}, {err_r.get(), 4}, {ready_w.get(), 5}},
                                          true}),
                       "logging program");
    ready_w.reset();
    if (auto st = wait_ready(ready_r.get(), out_uri.path); !st) {
      out.abandon();
      return std::move(st).error();
    }
    return out;
  }
  spec.out = out_uri.kind == LogUri::Kind::file ? REAPER_TRY(file_target(out_uri, "stdout"))
                                                : out_uri.path;
  spec.err = err_uri.kind == LogUri::Kind::file ? REAPER_TRY(file_target(err_uri, "stderr"))
                                                : err_uri.path;
  return out;
}

}  // namespace reaper::shim
