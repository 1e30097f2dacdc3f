// Fuzz target for the names a user types or containerd sends: container and
// exec ids (state::validate_id, checked before any path is built from them)
// and signal names (oci::parse_signal, from `reaper-runtime kill` and the
// monitor's control socket). An accepted id is one safe path component; a
// refused one is named in the message with every control byte escaped; an
// accepted signal is 1..64 and its number parses back to itself. Seeds:
// test/fuzz/corpus/ids_signals/.

#include <string>

#include "fuzz_support.h"
#include "oci/spec.h"
#include "state/id.h"

using reaper::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto text = reaper::fuzz::as_text(data, size);

  auto id = reaper::state::validate_id(text, "container id");
  if (id.ok()) {
    check(!text.empty() && text.size() <= 256 && text != "." && text != "..");
    check(text.find_first_of(std::string_view("/\0", 2)) == std::string_view::npos);
    check(text[0] != '-' && text[0] != '.');
  } else {
    const auto& m = id.error().message();
    check(m.starts_with("container id"));
    check(reaper::fuzz::printable(m) && m.size() < 512);
  }

  auto sig = reaper::oci::parse_signal(text);
  if (sig.ok()) {
    check(*sig >= 1 && *sig <= 64);
    auto again = reaper::oci::parse_signal(std::to_string(*sig));
    check(again.ok() && *again == *sig);
  } else {
    check(sig.error().message().starts_with("invalid signal"));
  }
  return 0;
}
