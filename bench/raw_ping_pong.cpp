// A minimal raw-socket ping-pong: the floor any RPC layer is measured against. Blocking sockets,
// no framing beyond fixed-size messages, one forked echo child.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>

#include "bench/benches.h"

namespace keel::bench {
namespace {

void full_write(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n <= 0) throw std::runtime_error("raw ping-pong: write failed");
    data += n;
    size -= static_cast<size_t>(n);
  }
}

bool full_read(int fd, char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::read(fd, data, size);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

void set_no_delay(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

}  // namespace

double raw_ping_pong(uint64_t round_trips, int in_flight, size_t payload_bytes) {
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 || ::listen(listener, 1) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    throw std::runtime_error("raw ping-pong: cannot listen on 127.0.0.1");
  }
  const pid_t child = ::fork();
  if (child == 0) {
    const int connection = ::accept(listener, nullptr, nullptr);
    set_no_delay(connection);
    std::string buffer(payload_bytes, '\0');
    while (full_read(connection, buffer.data(), buffer.size())) full_write(connection, buffer.data(), buffer.size());
    ::_exit(0);
  }
  ::close(listener);
  const int connection = ::socket(AF_INET, SOCK_STREAM, 0);
  if (::connect(connection, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    throw std::runtime_error("raw ping-pong: cannot connect");
  }
  set_no_delay(connection);
  const std::string batch(payload_bytes * static_cast<size_t>(in_flight), 'r');
  std::string replies(batch.size(), '\0');
  const uint64_t batches = round_trips / static_cast<uint64_t>(in_flight);
  const auto start = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < batches; ++i) {
    full_write(connection, batch.data(), batch.size());
    if (!full_read(connection, replies.data(), replies.size())) throw std::runtime_error("raw ping-pong: echo died");
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ::close(connection);
  ::waitpid(child, nullptr, 0);
  return static_cast<double>(batches * static_cast<uint64_t>(in_flight)) / seconds;
}

}  // namespace keel::bench
