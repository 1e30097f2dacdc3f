#include "shim/socket_address.h"

#include <vector>

#include <simdjson.h>

#include "common/json_read.h"
#include "common/sha256.h"

namespace reaper::shim {

std::string go_path_clean(std::string_view path) {
  if (path.empty()) return ".";
  bool rooted = path.front() == '/';
  std::vector<std::string_view> parts;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view part = path.substr(pos, slash - pos);
    pos = slash + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!parts.empty() && parts.back() != "..") {
        parts.pop_back();
      } else if (!rooted) {
        parts.push_back(part);  // a relative path keeps leading ".."
      }
      continue;  // ".." at the root is the root
    }
    parts.push_back(part);
  }
  std::string out = rooted ? "/" : "";
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += '/';
    out += parts[i];
  }
  return out.empty() ? "." : out;
}

std::string go_path_join(std::initializer_list<std::string_view> elements) {
  std::string joined;
  bool any = false;
  for (std::string_view e : elements) {
    if (e.empty()) continue;
    if (any) joined += '/';
    joined += e;
    any = true;
  }
  return any ? go_path_clean(joined) : std::string();
}

std::string socket_path(std::string_view containerd_address, std::string_view ns,
                        std::string_view group, std::string_view socket_dir) {
  std::string key = go_path_join({containerd_address, ns, group});
  return go_path_join({socket_dir, sha256_hex(key)});
}

std::string socket_uri(std::string_view path) {
  return "unix://" + std::string(path);
}

std::string group_key(const std::map<std::string, std::string, std::less<>>& annotations,
                      std::string_view id) {
  for (std::string_view name : {annotation_group, annotation_sandbox_id}) {
    auto it = annotations.find(name);
    if (it != annotations.end() && !it->second.empty()) return it->second;
  }
  return std::string(id);
}

Result<std::map<std::string, std::string, std::less<>>> parse_annotations(
    std::string_view config_json) {
  simdjson::dom::parser parser;
  simdjson::dom::element root = REAPER_TRY_CTX(parse_json(parser, config_json), "config.json");
  std::map<std::string, std::string, std::less<>> out;
  simdjson::dom::element annotations;
  if (root["annotations"].get(annotations) != simdjson::SUCCESS || annotations.is_null())
    return out;
  simdjson::dom::object object;
  if (annotations.get(object) != simdjson::SUCCESS)
    return make_error("config.json: annotations: expected an object");
  for (auto field : object) {
    std::string_view value;
    if (field.value.get(value) != simdjson::SUCCESS)
      return make_error("config.json: annotations.{}: expected a string", field.key);
    // A repeated key: the last one wins, as in oci::parse_spec and Go's
    // encoding/json, so that the shim and the runtime read the same pod.
    out.insert_or_assign(std::string(field.key), std::string(value));
  }
  return out;
}

}  // namespace reaper::shim
