#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "shim/stdio_uri.h"

using reaper::shim::LogUri;
using reaper::shim::parse_log_uri;
using reaper::shim::PreparedStdio;

TEST_CASE("log URIs: plain paths, file://, binary:// with arguments") {
  auto plain = parse_log_uri("/run/containerd/fifo/1/c-stdout", "stdout");
  REQUIRE(plain.ok());
  CHECK(plain->kind == LogUri::Kind::path);
  CHECK(plain->path == "/run/containerd/fifo/1/c-stdout");

  auto none = parse_log_uri("", "stdout");
  REQUIRE(none.ok());
  CHECK(none->path.empty());

  auto file = parse_log_uri("file:///var/log/a%20b.log", "stdout");
  REQUIRE(file.ok());
  CHECK(file->kind == LogUri::Kind::file);
  CHECK(file->path == "/var/log/a b.log");

  auto bin = parse_log_uri("binary:///usr/bin/logger?id=x&level=debug%21&flag", "stdout");
  REQUIRE(bin.ok());
  CHECK(bin->kind == LogUri::Kind::binary);
  CHECK(bin->path == "/usr/bin/logger");
  CHECK(bin->args == std::vector<std::string>{"id", "x", "level", "debug!", "flag"});
}

TEST_CASE("log URIs: what is refused, and why") {
  auto check = [](const std::string& text, const std::string& needle) {
    auto r = parse_log_uri(text, "stdout");
    REQUIRE_FALSE(r.ok());
    INFO(r.error().what());
    CHECK(r.error().what().find(needle) != std::string::npos);
  };
  check("relative/fifo", "not an absolute path");
  check("http://example.com/x", "unsupported scheme `http`");
  check("file://host/var/log/x", "absolute path with an empty host");
  check("file://", "absolute path");
  check("file:///x?y=1", "takes no query");
  check("file:///x%2", "bad percent escape");
  check("file:///x%00y", "NUL");
  check("binary://relative", "absolute path");
}

TEST_CASE("prepared stdio: FIFO paths pass through; file:// creates the file 0600") {
  char dir[] = "/tmp/reaper-stdio-uri-XXXXXX";
  REQUIRE(::mkdtemp(dir) != nullptr);
  std::string log = std::string(dir) + "/out.log";
  auto p = PreparedStdio::prepare({"/in", "file://" + log, "/err", "c1", "ns", dir});
  REQUIRE(p.ok());
  CHECK_FALSE(p->spec().inherit);
  CHECK(p->spec().in == "/in");
  CHECK(p->spec().out == log);
  CHECK(p->spec().err == "/err");
  CHECK(p->logger() == 0);
  struct stat st {};
  REQUIRE(::stat(log.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  auto in_uri = PreparedStdio::prepare({"file:///x", "", "", "c1", "ns", dir});
  REQUIRE_FALSE(in_uri.ok());
  CHECK(in_uri.error().what().find("stdin") != std::string::npos);

  auto split = PreparedStdio::prepare({"", "binary:///bin/true", "/err", "c1", "ns", dir});
  REQUIRE_FALSE(split.ok());
  CHECK(split.error().what().find("must be given for both") != std::string::npos);

  // A logging program that cannot be started: an error, and no FIFO left.
  auto missing = PreparedStdio::prepare(
      {"", "binary:///nonexistent/logger", "binary:///nonexistent/logger", "c1", "ns", dir});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().what().find("/nonexistent/logger") != std::string::npos);
  std::string cmd = std::string("test -z \"$(ls ") + dir + " | grep -v out.log)\" && rm -rf " + dir;
  CHECK(std::system(cmd.c_str()) == 0);
}
