#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "common/config.h"

using namespace reaper;

namespace {

// A NULL-terminated envp built from strings.
class Env {
 public:
  Env(std::initializer_list<std::string> vars) : vars_(vars) {
    for (auto& v : vars_) ptrs_.push_back(v.c_str());
    ptrs_.push_back(nullptr);
  }
  const char* const* get() const { return ptrs_.data(); }

 private:
  std::vector<std::string> vars_;
  std::vector<const char*> ptrs_;
};

// A config file in a temporary directory, removed afterwards.
class TempFile {
 public:
  explicit TempFile(const std::string& text, mode_t mode = 0644) {
    char tmpl[] = "/tmp/reaper-config-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    path_ = dir_ + "/reaper.conf";
    int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, mode);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    ::fchmod(fd, mode);
    ::close(fd);
  }
  ~TempFile() {
    ::unlink(path_.c_str());
    ::rmdir(dir_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string dir_, path_;
};

}  // namespace

TEST_CASE("config: defaults without file or environment") {
  Env env{"REAPER_CONFIG="};
  auto c = load_node_config(env.get());
  REQUIRE(c.ok());
  CHECK(c->state_root == "/run/reaper");
  CHECK(c->overlay_base_dir() == "/run/reaper/overlay");
  CHECK(c->ns_dir() == "/run/reaper/ns");
  CHECK(c->overlay_enabled);
  CHECK(c->overlay_isolation == OverlayIsolation::per_namespace);
  CHECK(c->dns_mode == DnsMode::host);
  CHECK(c->filter_enabled);
  CHECK(c->filter_mode == FilterMode::append);
  CHECK(c->annotations_enabled);
  CHECK(c->annotation_allowed("dns-mode"));
  CHECK(c->annotation_allowed("overlay-name"));
  CHECK(c->cgroups_enabled);
  CHECK(c->config_path.empty());
}

TEST_CASE("config: file values, comments, quotes, derived directories") {
  TempFile f(
      "# node settings\n"
      "\n"
      "REAPER_RUNTIME_ROOT = /run/reaper-x\n"
      "REAPER_DNS_MODE=k8s   \n"
      "  # indented comment\n"
      "REAPER_OVERLAY_ISOLATION=\"node\"\n"
      "REAPER_FILTER_PATHS=/etc/a:/var//b/::/etc/a\n"
      "REAPER_FILTER_ALLOWLIST=/etc/shadow\n"
      "REAPER_FILTER_MODE=replace\n"
      "REAPER_ANNOTATIONS_ALLOWLIST=reaper.runtime/dns-mode\n"
      "REAPER_CGROUPS=disabled\n");
  Env env{"REAPER_CONFIG=" + f.path()};
  auto c = load_node_config(env.get());
  REQUIRE_MESSAGE(c.ok(), c.error().what());
  CHECK(c->config_path == f.path());
  CHECK(c->state_root == "/run/reaper-x");
  CHECK(c->overlay_base_dir() == "/run/reaper-x/overlay");
  CHECK(c->ns_dir() == "/run/reaper-x/ns");
  CHECK(c->dns_mode == DnsMode::kubernetes);
  CHECK(c->overlay_isolation == OverlayIsolation::per_node);
  CHECK(c->filter_paths == std::vector<std::string>{"/etc/a", "/var/b"});
  CHECK(c->filter_allowlist == std::vector<std::string>{"/etc/shadow"});
  CHECK(c->filter_mode == FilterMode::replace);
  CHECK(c->annotation_allowed("dns-mode"));
  CHECK_FALSE(c->annotation_allowed("overlay-name"));
  CHECK_FALSE(c->cgroups_enabled);
}

TEST_CASE("config: the environment overrides the file") {
  TempFile f(
      "REAPER_DNS_MODE=kubernetes\nREAPER_FILTER_ENABLED=true\nREAPER_OVERLAY_BASE=/srv/ovl\n");
  Env env{"REAPER_CONFIG=" + f.path(), "REAPER_DNS_MODE=host", "REAPER_FILTER_ENABLED=off",
          "REAPER_UNRELATED_THING=whatever", "PATH=/bin"};
  auto c = load_node_config(env.get());
  REQUIRE_MESSAGE(c.ok(), c.error().what());
  CHECK(c->dns_mode == DnsMode::host);
  CHECK_FALSE(c->filter_enabled);
  CHECK(c->overlay_base_dir() == "/srv/ovl");  // explicit wins over the derived one
}

TEST_CASE("config: errors name file and line") {
  SUBCASE("unknown key") {
    TempFile f("# ok\nREAPER_DNS_MODE=host\nREAPER_NOPE=1\n");
    Env env{"REAPER_CONFIG=" + f.path()};
    auto c = load_node_config(env.get());
    REQUIRE_FALSE(c.ok());
    CHECK(c.error().what() == f.path() + ":3: unknown key `REAPER_NOPE`");
  }
  SUBCASE("not KEY=VALUE") {
    TempFile f("REAPER_DNS_MODE=host\n\njust words\n");
    Env env{"REAPER_CONFIG=" + f.path()};
    auto c = load_node_config(env.get());
    REQUIRE_FALSE(c.ok());
    CHECK(c.error().what() == f.path() + ":3: expected KEY=VALUE, got `just words`");
  }
  SUBCASE("bad value") {
    TempFile f("REAPER_FILTER_ENABLED=maybe\n");
    Env env{"REAPER_CONFIG=" + f.path()};
    auto c = load_node_config(env.get());
    REQUIRE_FALSE(c.ok());
    CHECK(c.error().what() == f.path() +
                                  ":1: REAPER_FILTER_ENABLED: `maybe` is not a boolean "
                                  "(true|false|1|0|yes|no|on|off)");
  }
  SUBCASE("repeated key") {
    TempFile f("REAPER_DNS_MODE=host\nREAPER_DNS_MODE=kubernetes\n");
    Env env{"REAPER_CONFIG=" + f.path()};
    auto c = load_node_config(env.get());
    REQUIRE_FALSE(c.ok());
    CHECK(c.error().what() == f.path() + ":2: `REAPER_DNS_MODE` is already set on line 1");
  }
  SUBCASE("relative path") {
    TempFile f("REAPER_OVERLAY_BASE=var/ovl\n");
    Env env{"REAPER_CONFIG=" + f.path()};
    auto c = load_node_config(env.get());
    REQUIRE_FALSE(c.ok());
    CHECK(c.error().what() ==
          f.path() + ":1: REAPER_OVERLAY_BASE: `var/ovl` is not an absolute path");
  }
  SUBCASE("overlay option separators in the base") {
    TempFile f("REAPER_OVERLAY_BASE=/a,b\n");
    Env env{"REAPER_CONFIG=" + f.path()};
    CHECK_FALSE(load_node_config(env.get()).ok());
  }
  SUBCASE("REAPER_CONFIG inside the file") {
    TempFile f("REAPER_CONFIG=/other\n");
    Env env{"REAPER_CONFIG=" + f.path()};
    auto c = load_node_config(env.get());
    REQUIRE_FALSE(c.ok());
    CHECK(c.error().what() == f.path() + ":1: REAPER_CONFIG can only be set in the environment");
  }
  SUBCASE("masking `/`") {
    TempFile f("REAPER_FILTER_PATHS=/etc/x:/\n");
    Env env{"REAPER_CONFIG=" + f.path()};
    CHECK_FALSE(load_node_config(env.get()).ok());
  }
  SUBCASE("unknown annotation in the allowlist") {
    TempFile f("REAPER_ANNOTATIONS_ALLOWLIST=dns-mode,filter-paths\n");
    Env env{"REAPER_CONFIG=" + f.path()};
    auto c = load_node_config(env.get());
    REQUIRE_FALSE(c.ok());
    CHECK(c.error().what().find("unknown annotation `filter-paths`") != std::string::npos);
  }
  SUBCASE("world-writable file") {
    TempFile f("REAPER_DNS_MODE=host\n", 0666);
    Env env{"REAPER_CONFIG=" + f.path()};
    auto c = load_node_config(env.get());
    REQUIRE_FALSE(c.ok());
    CHECK(c.error().what().find("world-writable") != std::string::npos);
  }
}

TEST_CASE("config: bad environment values are errors too") {
  Env env{"REAPER_CONFIG=", "REAPER_OVERLAY_ISOLATION=cluster"};
  auto c = load_node_config(env.get());
  REQUIRE_FALSE(c.ok());
  CHECK(
      c.error().what() ==
      "environment: REAPER_OVERLAY_ISOLATION: `cluster` is not an isolation mode (namespace|node)");
}

TEST_CASE("config: missing files") {
  SUBCASE("an explicitly named file must exist") {
    Env env{"REAPER_CONFIG=/nonexistent/reaper.conf"};
    auto c = load_node_config(env.get());
    REQUIRE_FALSE(c.ok());
    CHECK(c.error().err() == ENOENT);
    CHECK(c.error().what() ==
          "read configuration `/nonexistent/reaper.conf`: No such file or directory");
  }
  SUBCASE("parse_node_config with an empty text is the defaults") {
    auto c = parse_node_config("", "(none)", nullptr);
    REQUIRE(c.ok());
    CHECK(c->state_root == "/run/reaper");
  }
}

TEST_CASE("config: obsolete keys of the original are accepted with a warning") {
  TempFile f("REAPER_OVERLAY_NS=/run/reaper/shared-mnt-ns\nREAPER_NO_OVERLAY=1\n");
  Env env{"REAPER_CONFIG=" + f.path()};
  auto c = load_node_config(env.get());
  REQUIRE_MESSAGE(c.ok(), c.error().what());
  REQUIRE(c->warnings.size() == 1);
  CHECK(c->warnings[0].find("REAPER_OVERLAY_NS") != std::string::npos);
  CHECK_FALSE(c->overlay_enabled);
}

TEST_CASE("config: annotations switch") {
  Env env{"REAPER_CONFIG=", "REAPER_ANNOTATIONS_ENABLED=false"};
  auto c = load_node_config(env.get());
  REQUIRE(c.ok());
  CHECK_FALSE(c->annotation_allowed("dns-mode"));
  CHECK_FALSE(c->annotation_allowed("overlay-name"));
}
