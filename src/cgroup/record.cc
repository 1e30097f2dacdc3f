#include "cgroup/record.h"

#include <sys/stat.h>
#include <sys/statfs.h>

#include <simdjson.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/json_read.h"

namespace reaper::cgroup {

namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

Error bad(std::string_view origin, std::string_view what) {
  return make_error("{}: {}", origin, what);
}

constexpr long cgroup_magic = 0x27e0eb;     // CGROUP_SUPER_MAGIC
constexpr long cgroup2_magic = 0x63677270;  // CGROUP2_SUPER_MAGIC

bool has_dot_component(std::string_view path) {
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t next = path.find('/', pos);
    if (next == std::string_view::npos) next = path.size();
    std::string_view part = path.substr(pos, next - pos);
    if (part == "." || part == "..") return true;
    pos = next + 1;
  }
  return false;
}

Result<RecordDir> read_dir(element e, std::string_view origin) {
  object obj;
  std::string_view path;
  array controllers;
  if (e.get_object().get(obj) != simdjson::SUCCESS ||
      obj["path"].get_string().get(path) != simdjson::SUCCESS || path.empty() ||
      path.front() != '/' || obj["controllers"].get_array().get(controllers) != simdjson::SUCCESS)
    return bad(origin, "dirs: expected {\"path\": absolute path, \"controllers\": [...]}");
  if (has_dot_component(path)) return bad(origin, "dirs: `.` or `..` in a path");
  RecordDir d{std::string(path), {}};
  for (element c : controllers) {
    std::string_view name;
    if (c.get_string().get(name) != simdjson::SUCCESS)
      return bad(origin, "dirs: controllers: expected strings");
    d.controllers.emplace_back(name);
  }
  return d;
}

}  // namespace

std::string to_json(const Record& r) {
  JsonWriter w;
  w.begin_object();
  w.key("version").value(record_version);
  w.key("cgroup").value(to_string(r.version));
  w.key("cgroups_path").value(r.cgroups_path);
  w.key("dirs").begin_array();
  for (const auto& d : r.dirs) {
    w.begin_object().key("path").value(d.path).key("controllers").begin_array();
    for (const auto& c : d.controllers) w.value(c);
    w.end_array().end_object();
  }
  w.end_array();
  if (r.final_oom_kills) w.key("final_oom_kills").value(*r.final_oom_kills);
  w.key("removed").value(r.removed);
  w.end_object();
  return w.str() + "\n";
}

Result<Record> parse_record(std::string_view json, std::string_view origin) {
  simdjson::dom::parser parser;
  element root = REAPER_TRY_CTX(parse_json(parser, json), "{}", origin);
  object obj;
  int64_t version = 0;
  if (root.get_object().get(obj) != simdjson::SUCCESS ||
      obj["version"].get_int64().get(version) != simdjson::SUCCESS)
    return bad(origin, "expected an object with a version");
  if (version != record_version)
    return make_error("{}: version {} is not supported (expected {})", origin, version,
                      record_version);
  Record r;
  std::string_view cg, path;
  array dirs;
  if (obj["cgroup"].get_string().get(cg) != simdjson::SUCCESS || (cg != "v1" && cg != "v2"))
    return bad(origin, "cgroup: expected \"v1\" or \"v2\"");
  r.version = cg == "v1" ? Version::v1 : Version::v2;
  if (obj["cgroups_path"].get_string().get(path) != simdjson::SUCCESS)
    return bad(origin, "cgroups_path: expected a string");
  r.cgroups_path = std::string(path);
  if (obj["dirs"].get_array().get(dirs) != simdjson::SUCCESS)
    return bad(origin, "dirs: expected an array");
  for (element d : dirs) r.dirs.push_back(REAPER_TRY(read_dir(d, origin)));
  if (r.dirs.empty()) return bad(origin, "dirs: empty");
  uint64_t kills = 0;
  if (obj["final_oom_kills"].get_uint64().get(kills) == simdjson::SUCCESS)
    r.final_oom_kills = kills;
  if (obj["removed"].get_bool().get(r.removed) != simdjson::SUCCESS)
    return bad(origin, "removed: expected a boolean");
  return r;
}

Status verify_record(const Record& r) {
  for (const auto& d : r.dirs) {
    struct statfs fs {};
    if (::statfs(d.path.c_str(), &fs) < 0) {
      if (errno == ENOENT) continue;  // already removed: harmless
      return sys_error("cgroup `{}`", d.path);
    }
    if (fs.f_type != cgroup_magic && fs.f_type != cgroup2_magic)
      return make_error("cgroup.json names `{}`, which is not on a cgroup filesystem", d.path);
    std::string parent = d.path.substr(0, d.path.rfind('/'));
    struct stat self {};
    struct stat up {};
    if (::stat(d.path.c_str(), &self) < 0) return sys_error("cgroup `{}`", d.path);
    if (parent.empty() || ::stat(parent.c_str(), &up) < 0 || up.st_dev != self.st_dev)
      return make_error("cgroup.json names `{}`, the root of a cgroup hierarchy", d.path);
  }
  return {};
}

Result<std::optional<Record>> read_record(int dirfd) {
  auto text = fs::read_file_at(dirfd, record_name, 1 << 20);
  if (!text.ok()) {
    if (text.error().err() == ENOENT) return std::optional<Record>();
    return std::move(text).error();
  }
  return std::optional<Record>(REAPER_TRY(parse_record(*text, record_name)));
}

Status write_record(int dirfd, const Record& r) {
  return fs::write_file_atomic_at(dirfd, record_name, to_json(r));
}

}  // namespace reaper::cgroup
