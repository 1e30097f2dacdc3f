#include "common/fd_passing.h"

#include <sys/socket.h>

#include <algorithm>
#include <cstring>

namespace reaper {

Status send_with_fds(int sock, std::string_view data, std::span<const int> fds) {
  if (data.empty()) return errno_error(EINVAL, "send_with_fds: a message needs data");
  if (fds.size() > max_passed_fds)
    return errno_error(EINVAL, "{} fds in one message: at most {}", fds.size(), max_passed_fds);
  iovec iov{const_cast<char*>(data.data()), data.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::vector<char> control(CMSG_SPACE(sizeof(int) * max_passed_fds));
  if (!fds.empty()) {
    msg.msg_control = control.data();
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
  }
  ssize_t n = 0;
  do {
    n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return sys_error("sendmsg");
  if (static_cast<size_t>(n) != data.size()) return make_error("sendmsg: short write");
  return {};
}

Result<Received> receive_with_fds(int sock, size_t max_data) {
  Received out;
  // The message's length first (blocking until it comes), so that the
  // buffer is its size: a buffer of max_data would leave that much memory
  // dirty in a long-lived monitor. The limit is checked on the real receive.
  ssize_t len = 0;
  do {
    len = ::recv(sock, nullptr, 0, MSG_PEEK | MSG_TRUNC);
  } while (len < 0 && errno == EINTR);
  if (len < 0) return sys_error("recv");
  out.data.resize(std::min(static_cast<size_t>(len), max_data) +
                  1);  // +1: longer shows as MSG_TRUNC
  iovec iov{out.data.data(), out.data.size()};
  std::vector<char> control(CMSG_SPACE(sizeof(int) * max_passed_fds));
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  ssize_t n = 0;
  do {
    n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);  // blocks until the peer sends or closes
  } while (n < 0 && errno == EINTR);
  if (n < 0) return sys_error("recvmsg");
    // Owned before anything is checked: a refused message leaks no fd.
    // (musl's CMSG_NXTHDR compares a size_t with a ptrdiff_t.)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsign-compare"
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd = -1;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      out.fds.emplace_back(fd);
    }
  }
#pragma GCC diagnostic pop
  if ((msg.msg_flags & MSG_CTRUNC) != 0)
    return make_error("message with more than {} fds", max_passed_fds);
  if ((msg.msg_flags & MSG_TRUNC) != 0 || static_cast<size_t>(n) > max_data)
    return make_error("message longer than {} bytes", max_data);
  out.data.resize(static_cast<size_t>(n));
  return out;
}

}  // namespace reaper
