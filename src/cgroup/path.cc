#include "cgroup/path.h"

#include <vector>

#include "cgroup/files.h"

namespace reaper::cgroup {

namespace {

// One component of a unit or slice name: what systemd accepts in unit names.
bool valid_unit_chars(std::string_view s) {
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == '@' || c == '\\' || c == ':';
    if (!ok) return false;
  }
  return true;
}

Result<CgroupPath> parse_cgroupfs(std::string_view text) {
  bool absolute = text.front() == '/';
  std::string out;
  for (std::string_view part : split(text, '/')) {
    if (part.empty()) continue;
    if (part == "." || part == "..")
      return make_error("cgroupsPath `{}`: `.` and `..` are not allowed", text);
    if (!out.empty() || absolute) out += '/';
    out += part;
  }
  if (out.empty()) return make_error("cgroupsPath `{}` names the root cgroup", text);
  return CgroupPath{Driver::cgroupfs, std::move(out)};
}

Result<CgroupPath> parse_systemd(std::string_view text, const std::vector<std::string_view>& f) {
  std::string_view slice = f[0], prefix = f[1], name = f[2];
  if (name.empty())
    return make_error("cgroupsPath `{}`: the unit name (slice:prefix:NAME) is empty", text);
  for (std::string_view part : {prefix, name}) {
    if (part.find('/') != std::string_view::npos || !valid_unit_chars(part) || part == "." ||
        part == "..")
      return make_error("cgroupsPath `{}`: `{}` is not a valid unit name part", text, part);
  }
  std::string parent = REAPER_TRY_CTX(expand_slice(slice.empty() ? "system.slice" : slice),
                                      "cgroupsPath `{}`", text);
  std::string unit;
  if (name.ends_with(".slice"))
    unit = std::string(name);
  else if (prefix.empty())
    unit = fmt::format("{}.scope", name);
  else
    unit = fmt::format("{}-{}.scope", prefix, name);
  return CgroupPath{Driver::systemd, fmt::format("{}/{}", parent, unit)};
}

}  // namespace

Result<std::string> expand_slice(std::string_view slice) {
  constexpr std::string_view suffix = ".slice";
  if (slice.size() <= suffix.size() || !slice.ends_with(suffix) ||
      slice.find('/') != std::string_view::npos || !valid_unit_chars(slice))
    return make_error("invalid slice name `{}`", slice);
  std::string_view base = slice.substr(0, slice.size() - suffix.size());
  if (base == "-") return std::string();
  std::string path, prefix;
  for (std::string_view component : split(base, '-')) {
    // "a--b.slice", "-a.slice" and "a-.slice" are not slices.
    if (component.empty()) return make_error("invalid slice name `{}`", slice);
    path += fmt::format("/{}{}{}", prefix, component, suffix);
    prefix += fmt::format("{}-", component);
  }
  return path;
}

Result<CgroupPath> parse_cgroups_path(std::string_view text) {
  if (text.empty()) return make_error("cgroupsPath is empty");
  if (text.find('\0') != std::string_view::npos)
    return make_error("cgroupsPath contains a NUL byte");
  auto fields = split(text, ':');
  if (text.front() != '/' && fields.size() == 3) return parse_systemd(text, fields);
  if (fields.size() > 1)
    return make_error("cgroupsPath `{}`: expected a cgroup path or slice:prefix:name", text);
  return parse_cgroupfs(text);
}

std::string resolve(const CgroupPath& p, std::string_view own) {
  if (!p.relative()) return p.path;
  std::string base(own);
  while (!base.empty() && base.back() == '/') base.pop_back();
  return fmt::format("{}/{}", base, p.path);
}

}  // namespace reaper::cgroup
