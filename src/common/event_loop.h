#pragma once
// A single-threaded epoll loop with callbacks: the shim's server, its events
// client, signalfds and the pidfds of monitors all live in one loop, and
// every wait is an fd becoming ready (no sleeps, no polling).
//
// Registrations are RAII `Watch` handles. Each registration has a unique id
// (kept in epoll_data), so an event already collected for a registration
// that a previous callback of the same round removed is dropped instead of
// reaching whatever now uses that fd number. A Watch must be reset before
// its fd is closed (declare the fd member before the Watch member). Watches
// may outlive the loop; they then do nothing.

#include <sys/epoll.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <unordered_map>

#include "common/error.h"
#include "common/fd.h"

namespace reaper {

class EventLoop {
 public:
  using Callback = std::function<void(uint32_t events)>;
  struct Core;

  class Watch {
   public:
    Watch() = default;
    Watch(const Watch&) = delete;
    Watch& operator=(const Watch&) = delete;
    Watch(Watch&& other) noexcept;
    Watch& operator=(Watch&& other) noexcept;
    ~Watch() { reset(); }

    // Changes the set of events (EPOLLIN, EPOLLOUT, ...) watched for.
    Status modify(uint32_t events);
    // Unregisters; the callback is not called again.
    void reset();
    [[nodiscard]] bool active() const { return id_ != 0 && !core_.expired(); }

   private:
    friend class EventLoop;
    Watch(std::weak_ptr<Core> core, uint64_t id) : core_(std::move(core)), id_(id) {}
    std::weak_ptr<Core> core_;
    uint64_t id_ = 0;
  };

  static Result<EventLoop> create();

  // Registers `fd` (not owned) for `events`; level-triggered unless EPOLLET
  // is given. The callback gets the ready events (EPOLLIN, EPOLLHUP, ...).
  Result<Watch> watch(int fd, uint32_t events, Callback callback);

  // Runs `task` from the loop after the current round of callbacks: for work
  // that must not run re-entrantly inside the caller.
  void post(std::function<void()> task);

  // One round: waits up to `timeout` (negative: forever; zero when tasks are
  // posted), dispatches the ready callbacks, then runs the posted tasks.
  Status run_once(std::chrono::milliseconds timeout = std::chrono::milliseconds(-1));
  // Rounds until stop() is called.
  Status run();
  void stop();
  [[nodiscard]] bool stopped() const;
  // Clears a previous stop() so that run() can be called again.
  void restart();

 private:
  explicit EventLoop(std::shared_ptr<Core> core) : core_(std::move(core)) {}
  std::shared_ptr<Core> core_;
};

// A one-shot timer (timerfd, CLOCK_MONOTONIC) whose callback runs on the loop.
class Timer {
 public:
  static Result<Timer> create(EventLoop& loop, std::function<void()> on_fire);

  // (Re)arms the timer to fire once after `after` (zero fires at once).
  Status arm(std::chrono::milliseconds after);
  void disarm();
  [[nodiscard]] bool armed() const;

 private:
  struct State {
    UniqueFd fd;
    EventLoop::Watch watch;  // after fd: reset before the fd closes
    std::function<void()> on_fire;
    bool armed = false;
  };
  explicit Timer(std::unique_ptr<State> state) : state_(std::move(state)) {}
  std::unique_ptr<State> state_;  // stable address for the watch callback
};

}  // namespace reaper
