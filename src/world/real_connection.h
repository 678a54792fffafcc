// A TCP connection of the real world, and the readiness set that wakes it (real_world.cpp's
// internals; only the real backend includes this).
//
// A connection's socket leaves asio once connected: it reads and writes with plain system calls
// and waits on SocketReadiness, an edge-triggered epoll set of our own, where each socket is
// registered once, for the connection's life. The loop polls the set in every pass, and only
// before it blocks does it have asio's reactor watch the set (as one descriptor) to wake it.
// asio 1.22 re-arms its registration (an epoll_ctl) for every wait for readability, and its
// reads try the socket before every read (an EAGAIN recv when a client sends nothing until it
// has its reply): either is a system call per request, about 2 us on a virtual machine, where
// here a busy loop pass pays one poll for however many sockets became ready.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <asio.hpp>

#include "runtime/future.h"
#include "world/world.h"

namespace keel {

class RealConnection;

class SocketReadiness {
 public:
  explicit SocketReadiness(asio::io_context& io);
  SocketReadiness(const SocketReadiness&) = delete;
  SocketReadiness& operator=(const SocketReadiness&) = delete;

  // Watches `fd` for `connection` (readable, writable, hung up: each edge once, to its
  // on_ready); returns the id to remove it by. Throws io_error if the system refuses.
  uint64_t add(int fd, std::weak_ptr<RealConnection> connection);
  // Stops watching (before `fd` is closed).
  void remove(int fd, uint64_t id);
  // Tells the ready connections (on_ready), without blocking.
  void poll();
  // Has asio's reactor wake the loop (and poll) once a watched socket is ready: before the loop
  // blocks in asio.
  void arm();

 private:

  asio::posix::stream_descriptor watch_;  // owns the epoll descriptor
  std::unordered_map<uint64_t, std::weak_ptr<RealConnection>> connections_;
  uint64_t next_id_ = 1;
  bool armed_ = false;
};

class RealConnection final : public IConnection, public std::enable_shared_from_this<RealConnection> {
 public:
  // Takes `socket`, connected, out of asio and watches it on `readiness`. `held_writes` is the
  // world's list of connections that wrote in this pass of the loop (end_pass).
  static std::shared_ptr<RealConnection> adopt(asio::ip::tcp::socket socket, NetworkAddress peer,
                                               SocketReadiness& readiness,
                                               std::vector<std::shared_ptr<RealConnection>>& held_writes);
  RealConnection(int fd, NetworkAddress peer, SocketReadiness& readiness,
                 std::vector<std::shared_ptr<RealConnection>>& held_writes);
  ~RealConnection() override;
  RealConnection(const RealConnection&) = delete;
  RealConnection& operator=(const RealConnection&) = delete;

  void write(std::string bytes) override;
  void write_at_pass_end(std::string bytes) override;
  size_t bytes_unsent() const override { return unsent_bytes_; }
  Future<Void> on_unsent_at_most(size_t bytes) override;
  Future<std::string> read_some() override;
  void close() override { fail(); }
  NetworkAddress peer_address() const override { return peer_; }

  // The loop's pass ended: what queued behind this pass's write goes now (write_more).
  void end_pass();
  // SocketReadiness saw `events` (epoll's) on the socket.
  void on_ready(uint32_t events);

 private:
  void read_now();
  Promise<std::string> take_reading();
  // Queues `bytes` for sending; false (nothing queued) on a failed connection or no bytes.
  bool enqueue(std::string bytes);
  void write_more();
  void take_batch();
  void notify_drained();
  void fail();
  void release_socket();

  static constexpr size_t write_batch_bytes_max = 256 * 1024;

  int fd_;
  uint64_t readiness_id_ = 0;
  NetworkAddress peer_;
  SocketReadiness& readiness_;
  std::vector<std::shared_ptr<RealConnection>>& held_writes_;  // the world's
  std::vector<char> read_buffer_ = std::vector<char>(64 * 1024);
  std::deque<std::string> outgoing_;
  std::string sending_;  // the batch being written, from sending_offset_ on
  size_t sending_offset_ = 0;
  size_t unsent_bytes_ = 0;
  // A batch is being written, waits for the socket to take it, or went in this pass (held
  // until end_pass): new messages queue in outgoing_ meanwhile.
  bool writing_ = false;
  bool waiting_writable_ = false;  // a write found the socket full
  bool failed_ = false;
  std::vector<std::pair<size_t, Promise<Void>>> drained_;
  std::optional<Promise<std::string>> reading_;  // the read_some waiting for bytes
  bool maybe_readable_ = true;  // no read has found the socket empty since its last edge
  bool peer_closed_ = false;    // an edge told of the peer's close (or an error)
};

}  // namespace keel
