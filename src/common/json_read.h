#pragma once
// Reading JSON: the one way reaper parses a document with simdjson.

#include <cstddef>
#include <string_view>

#include <simdjson.h>

#include "common/error.h"

namespace reaper {

// The depth simdjson accepts, the document itself counting as one level:
// arrays and objects nested deeper than 127 are refused ("too deep"). Its
// default, 1024, gives every parser a 16 KiB stack of open containers,
// mapped, faulted in and unmapped again for each document (15-30 us a parse
// in a fresh musl process, measured alone; within the noise of a whole
// `run`); reaper's documents (OCI specs, its own records) nest fewer than
// 20 levels.
inline constexpr size_t max_json_depth = 128;

// Parses `json` with `parser`, which owns the memory the element points
// into. The error says "malformed JSON: <why>"; the caller says where.
Result<simdjson::dom::element> parse_json(simdjson::dom::parser& parser, std::string_view json);

}  // namespace reaper
