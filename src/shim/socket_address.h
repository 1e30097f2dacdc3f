#pragma once
// Where a shim listens. containerd's own shims name the socket after the
// hex SHA-256 of path.Join(<-address>, <namespace>, <group>), under
// /run/containerd/s (or BootstrapParams.socket_dir on 2.3+), so that every
// `start` for the same group finds the same socket: that is how one shim
// serves a whole pod. The group is the annotation io.containerd.runc.v2.group,
// else io.kubernetes.cri.sandbox-id, else the container id.
//
// The join must match Go's path.Join byte for byte, or a restarted
// containerd and our `start` would disagree on the name; go_path_clean is
// Go's path.Clean (lexical, no filesystem access).

#include <initializer_list>
#include <map>
#include <string>
#include <string_view>

#include "common/error.h"

namespace reaper::shim {

inline constexpr std::string_view default_socket_dir = "/run/containerd/s";
inline constexpr std::string_view annotation_group = "io.containerd.runc.v2.group";
inline constexpr std::string_view annotation_sandbox_id = "io.kubernetes.cri.sandbox-id";

std::string go_path_clean(std::string_view path);
// Joins the non-empty elements with '/' and cleans; "" if all are empty.
std::string go_path_join(std::initializer_list<std::string_view> elements);

// The socket path (no scheme) for a group.
std::string socket_path(std::string_view containerd_address, std::string_view ns,
                        std::string_view group, std::string_view socket_dir = default_socket_dir);
// "unix://" + path: what `start` prints.
std::string socket_uri(std::string_view path);

std::string group_key(const std::map<std::string, std::string, std::less<>>& annotations,
                      std::string_view id);
// The annotations of config.json text (empty when it has none).
Result<std::map<std::string, std::string, std::less<>>> parse_annotations(
    std::string_view config_json);

}  // namespace reaper::shim
