#pragma once

#include <string_view>

#include "common/error.h"

namespace reaper::state {

// Container and exec ids: [A-Za-z0-9][A-Za-z0-9._-]{0,255}. Checked before
// any file is touched, so an id can never name a path outside the store.
Status validate_id(std::string_view id, std::string_view what = "container id");

}  // namespace reaper::state
