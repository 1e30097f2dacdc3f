#include <doctest/doctest.h>

#include <cerrno>

#include "common/error.h"

using namespace reaper;

namespace {

Result<int> parse_positive(int v) {
  if (v <= 0) return make_error("value {} is not positive", v);
  return v;
}

Result<int> doubled(int v) {
  int x = REAPER_TRY_CTX(parse_positive(v), "doubling {}", v);
  return 2 * x;
}

Status fails_with_errno() {
  errno = ENOENT;
  return sys_error("open `{}`", "/nope");
}

}  // namespace

TEST_CASE("Result carries values and errors with context") {
  auto ok = doubled(4);
  REQUIRE(ok.ok());
  CHECK(*ok == 8);

  auto bad = doubled(-1);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().what() == "doubling -1: value -1 is not positive");
  CHECK(bad.error().err() == 0);
}

TEST_CASE("sys_error captures errno and prints strerror last") {
  auto st = fails_with_errno();
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().err() == ENOENT);
  CHECK(st.error().what() == "open `/nope`: No such file or directory");
  CHECK(st.error().wrap("create `x`").what() ==
        "create `x`: open `/nope`: No such file or directory");
}
