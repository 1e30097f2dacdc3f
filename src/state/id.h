#pragma once

#include <string>
#include <string_view>

#include "common/error.h"

namespace reaper::state {

// Container and exec ids: [A-Za-z0-9][A-Za-z0-9._-]{0,255}. Checked before
// any file is touched, so an id can never name a path outside the store.
Status validate_id(std::string_view id, std::string_view what = "container id");

// `s` for an error message: control bytes, non-ASCII and backquotes as
// \xNN, cut after `max_len` bytes (it may hold anything: a refused id, a
// command line read from /proc).
std::string printable(std::string_view s, size_t max_len = 64);

}  // namespace reaper::state
