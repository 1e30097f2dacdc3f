#include <doctest/doctest.h>

#include <sys/eventfd.h>
#include <unistd.h>

#include <optional>
#include <vector>

#include "common/event_loop.h"
#include "test_ttrpc_support.h"

using namespace reaper;
using namespace std::chrono_literals;

namespace {

UniqueFd make_eventfd() {
  return UniqueFd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
}

void signal_fd(int fd) {
  uint64_t one = 1;
  REQUIRE(::write(fd, &one, sizeof one) == sizeof one);
}

void drain_fd(int fd) {
  uint64_t v;
  (void)::read(fd, &v, sizeof v);
}

}  // namespace

TEST_CASE("event loop: a ready fd runs its callback; reset stops it") {
  auto loop = EventLoop::create();
  REQUIRE(loop.ok());
  UniqueFd efd = make_eventfd();
  int calls = 0;
  auto watch = loop->watch(efd.get(), EPOLLIN, [&](uint32_t ev) {
    CHECK((ev & EPOLLIN));
    drain_fd(efd.get());
    ++calls;
  });
  REQUIRE(watch.ok());
  signal_fd(efd.get());
  REQUIRE(loop->run_once(1000ms).ok());
  CHECK(calls == 1);
  watch->reset();
  signal_fd(efd.get());
  REQUIRE(loop->run_once(0ms).ok());
  CHECK(calls == 1);
}

TEST_CASE("event loop: a registration removed earlier in the same round gets no stale event") {
  auto loop = EventLoop::create();
  REQUIRE(loop.ok());
  UniqueFd a = make_eventfd(), b = make_eventfd();
  std::optional<EventLoop::Watch> wa, wb;
  int a_calls = 0, b_calls = 0;
  // Whichever runs first removes the other: exactly one callback runs.
  wa = loop->watch(a.get(), EPOLLIN,
                   [&](uint32_t) {
                     ++a_calls;
                     wb.reset();
                     wa.reset();
                   })
           .value();
  wb = loop->watch(b.get(), EPOLLIN,
                   [&](uint32_t) {
                     ++b_calls;
                     wa.reset();
                     wb.reset();
                   })
           .value();
  signal_fd(a.get());
  signal_fd(b.get());
  REQUIRE(loop->run_once(1000ms).ok());
  CHECK(a_calls + b_calls == 1);
}

TEST_CASE("event loop: posted tasks run after the round, in order; stop ends run()") {
  auto loop = EventLoop::create();
  REQUIRE(loop.ok());
  std::vector<int> order;
  loop->post([&] {
    order.push_back(1);
    loop->post([&] {
      order.push_back(3);
      loop->stop();
    });
  });
  loop->post([&] { order.push_back(2); });
  REQUIRE(loop->run().ok());
  CHECK(order == std::vector<int>{1, 2, 3});
  CHECK(loop->stopped());
}

TEST_CASE("timer: fires once; disarm prevents it; re-arm from its own callback") {
  auto loop = EventLoop::create();
  REQUIRE(loop.ok());
  int fired = 0;
  std::optional<Timer> timer;
  timer = Timer::create(*loop, [&] {
            if (++fired < 3) REQUIRE(timer->arm(1ms).ok());
          }).value();
  REQUIRE(timer->arm(1ms).ok());
  CHECK(timer->armed());
  CHECK(shim::test::run_until(*loop, [&] { return fired == 3; }));
  CHECK_FALSE(timer->armed());

  int other = 0;
  auto t2 = Timer::create(*loop, [&] { ++other; });
  REQUIRE(t2.ok());
  REQUIRE(t2->arm(0ms).ok());
  t2->disarm();
  REQUIRE(timer->arm(20ms).ok());
  CHECK(shim::test::run_until(*loop, [&] { return fired == 4; }));
  CHECK(other == 0);
}

TEST_CASE("a watch outliving its loop is harmless") {
  UniqueFd efd = make_eventfd();
  EventLoop::Watch watch;
  {
    auto loop = EventLoop::create();
    REQUIRE(loop.ok());
    watch = loop->watch(efd.get(), EPOLLIN, [](uint32_t) {}).value();
    CHECK(watch.active());
  }
  CHECK_FALSE(watch.active());
  CHECK_FALSE(watch.modify(EPOLLIN).ok());
  watch.reset();
}
