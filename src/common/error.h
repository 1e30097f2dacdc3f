#pragma once
// Errors are values. An Error carries the errno captured right after the
// failing call (0 when there is none) and a message that gains context on the
// way up: `open `/run/reaper/x/state`: No such file or directory` becomes
// `create `x`: open `/run/reaper/x/state`: No such file or directory`.
// Only the top level prints it.

#include <cerrno>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include <fmt/format.h>

namespace reaper {

class Error {
 public:
  Error(int err, std::string message) : errno_(err), message_(std::move(message)) {}

  [[nodiscard]] int err() const { return errno_; }
  [[nodiscard]] const std::string& message() const { return message_; }

  // Prepends "context: " to the message.
  [[nodiscard]] Error wrap(std::string_view context) const&;
  [[nodiscard]] Error wrap(std::string_view context) &&;

  // The message followed by strerror(errno) when there is an errno.
  [[nodiscard]] std::string what() const;

 private:
  int errno_;
  std::string message_;
};

// An error that is not a failed system call.
template <typename... Args>
[[nodiscard]] Error make_error(fmt::format_string<Args...> f, Args&&... args) {
  return Error(0, fmt::format(f, std::forward<Args>(args)...));
}

// An error from a failed system call: reads errno now, so call it first thing.
template <typename... Args>
[[nodiscard]] Error sys_error(fmt::format_string<Args...> f, Args&&... args) {
  int saved = errno;
  return Error(saved, fmt::format(f, std::forward<Args>(args)...));
}

// Same with an explicit errno value (for calls that return it, like pthread_*).
template <typename... Args>
[[nodiscard]] Error errno_error(int err, fmt::format_string<Args...> f, Args&&... args) {
  return Error(err, fmt::format(f, std::forward<Args>(args)...));
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value)
      : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Error error)
      : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error)
      : error_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  void value() const {}
  const Error& error() const& { return error_; }
  Error&& error() && { return std::move(error_); }

 private:
  Error error_{0, {}};
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace reaper

#define REAPER_CONCAT_(a, b) a##b
#define REAPER_CONCAT(a, b) REAPER_CONCAT_(a, b)

// Evaluates a Result expression; on error returns the error from the calling
// function, otherwise yields the value. Uses a statement expression (GCC and
// Clang) so that call sites stay one line; the temporary's name is unique per
// use so that calls nest.
#define REAPER_TRY(expr) REAPER_TRY_IMPL_(expr, REAPER_CONCAT(reaper_try_r_, __COUNTER__))
#define REAPER_TRY_IMPL_(expr, r)             \
  ({                                          \
    auto&& r = (expr);                        \
    if (!r.ok()) return std::move(r).error(); \
    std::move(r).value();                     \
  })

// Like REAPER_TRY, adding context to the error on the way up.
#define REAPER_TRY_CTX(expr, ...) \
  REAPER_TRY_CTX_IMPL_(expr, REAPER_CONCAT(reaper_try_r_, __COUNTER__), __VA_ARGS__)
#define REAPER_TRY_CTX_IMPL_(expr, r, ...)                                   \
  ({                                                                         \
    auto&& r = (expr);                                                       \
    if (!r.ok()) return std::move(r).error().wrap(fmt::format(__VA_ARGS__)); \
    std::move(r).value();                                                    \
  })
