#pragma once
// The shim's command line, parsed leniently: containerd passes Go-style flags
// (`-namespace NS -address A -publish-binary B -id ID [-bundle B] [-debug]
// start|delete`), and versions differ in which flags they pass (2.3+ plans to
// drop them in favour of the bootstrap message). So: `-x v`, `-x=v`, `--x`
// and `--x=v` all work, unknown flags are skipped (with their value when one
// follows), and flags may come before or after the action.

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace reaper::shim {

struct ShimFlags {
  std::string ns;                    // -namespace
  std::string address;               // -address: containerd's gRPC socket
  std::string publish_binary;        // -publish-binary
  std::string id;                    // -id
  std::string bundle;                // -bundle (delete)
  std::string ttrpc_address;         // -ttrpc-address (ours: start passes it to the server)
  bool debug = false;                // -debug
  bool version = false;              // -v, -version
  std::string action;                // "start", "delete", "" (server)
  std::vector<std::string> ignored;  // unknown flags and extra arguments
};

ShimFlags parse_flags(std::span<const std::string_view> args);
// The arguments after argv[0], as given to a personality's main.
ShimFlags parse_flags(std::span<char* const> argv_after_name);

}  // namespace reaper::shim
