#include "world/real_connection.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>

#include "runtime/assert.h"
#include "runtime/trace.h"

namespace keel {

namespace {

int create_epoll() {
  const int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) {
    TraceEvent(Severity::warn_always, "EpollCreateFailed").detail("Errno", errno);
    throw Error(errc::io_error);
  }
  return fd;
}

}  // namespace

SocketReadiness::SocketReadiness(asio::io_context& io) : watch_(io) {
  const int fd = create_epoll();
  asio::error_code error;
  watch_.assign(fd, error);
  if (error) {
    ::close(fd);
    TraceEvent(Severity::warn_always, "EpollWatchFailed").detail("Reason", error.message());
    throw Error(errc::io_error);
  }
}

uint64_t SocketReadiness::add(int fd, std::weak_ptr<RealConnection> connection) {
  const uint64_t id = next_id_++;
  epoll_event event{};
  event.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  event.data.u64 = id;
  if (::epoll_ctl(watch_.native_handle(), EPOLL_CTL_ADD, fd, &event) != 0) {
    TraceEvent(Severity::warn, "EpollAddFailed").detail("Errno", errno);
    throw Error(errc::io_error);
  }
  connections_.emplace(id, std::move(connection));
  return id;
}

void SocketReadiness::remove(int fd, uint64_t id) {
  epoll_event ignored{};
  ::epoll_ctl(watch_.native_handle(), EPOLL_CTL_DEL, fd, &ignored);
  connections_.erase(id);
}

// One wait at a time: starting it re-arms the epoll descriptor in asio's reactor, which then
// reports it at once if the set holds events already.
void SocketReadiness::arm() {
  if (armed_) return;
  armed_ = true;
  watch_.async_wait(asio::posix::stream_descriptor::wait_read, [this](const asio::error_code& error) {
    if (error) return;  // the world is shutting down
    armed_ = false;
    poll();
  });
}

void SocketReadiness::poll() {
  std::array<epoll_event, 128> events{};
  while (true) {
    const int count = ::epoll_wait(watch_.native_handle(), events.data(), static_cast<int>(events.size()), 0);
    if (count < 0 && errno == EINTR) continue;
    if (count <= 0) return;
    for (int i = 0; i < count; ++i) {
      // A connection an earlier event closed is gone from the map (its descriptor may belong
      // to a newer connection by now, under another id).
      const auto found = connections_.find(events[static_cast<size_t>(i)].data.u64);
      if (found == connections_.end()) continue;
      if (const std::shared_ptr<RealConnection> connection = found->second.lock()) {
        connection->on_ready(events[static_cast<size_t>(i)].events);
      }
    }
    if (count < static_cast<int>(events.size())) return;
  }
}

std::shared_ptr<RealConnection> RealConnection::adopt(asio::ip::tcp::socket socket, NetworkAddress peer,
                                                      SocketReadiness& readiness,
                                                      std::vector<std::shared_ptr<RealConnection>>& held_writes) {
  asio::error_code error;
  socket.set_option(asio::ip::tcp::no_delay(true), error);
  const int fd = socket.release(error);
  if (error) throw Error(errc::connection_failed);
  auto connection = std::make_shared<RealConnection>(fd, peer, readiness, held_writes);
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) throw Error(errc::connection_failed);
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);  // a process this one starts does not hold the connection open
  connection->readiness_id_ = readiness.add(fd, connection);
  return connection;
}

RealConnection::RealConnection(int fd, NetworkAddress peer, SocketReadiness& readiness,
                               std::vector<std::shared_ptr<RealConnection>>& held_writes)
    : fd_(fd), peer_(peer), readiness_(readiness), held_writes_(held_writes) {}

RealConnection::~RealConnection() { release_socket(); }

bool RealConnection::enqueue(std::string bytes) {
  if (failed_ || bytes.empty()) return false;
  unsent_bytes_ += bytes.size();
  outgoing_.push_back(std::move(bytes));
  return true;
}

void RealConnection::write(std::string bytes) {
  if (enqueue(std::move(bytes)) && !writing_) write_more();
}

// Queued behind a write of this pass, or held for end_pass: writing_ then stays true until the
// pass ends, so later write()s of the pass are held too.
void RealConnection::write_at_pass_end(std::string bytes) {
  if (!enqueue(std::move(bytes)) || writing_) return;
  writing_ = true;
  held_writes_.push_back(shared_from_this());
}

Future<Void> RealConnection::on_unsent_at_most(size_t bytes) {
  if (failed_ || unsent_bytes_ <= bytes) return Void{};
  drained_.emplace_back(bytes, Promise<Void>());
  return drained_.back().second.get_future();
}

// A read tries the socket at once only when it may hold bytes: else the next edge reads it.
Future<std::string> RealConnection::read_some() {
  if (failed_) return Error(errc::connection_failed);
  KEEL_ASSERT(!reading_.has_value() || !reading_->has_futures());  // one read at a time
  reading_.emplace();
  Future<std::string> result = reading_->get_future();
  if (maybe_readable_) read_now();
  return result;
}

void RealConnection::end_pass() {
  writing_ = false;
  if (!outgoing_.empty() && !failed_) write_more();
}

void RealConnection::on_ready(uint32_t events) {
  if (failed_) return;
  if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
    maybe_readable_ = true;
    if ((events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) peer_closed_ = true;
    if (reading_.has_value()) read_now();
  }
  if (waiting_writable_ && !failed_ && (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0) {
    waiting_writable_ = false;
    write_more();
  }
}

// Reads what the socket holds without blocking, for the waiting read_some.
void RealConnection::read_now() {
  ssize_t bytes = 0;
  do {
    bytes = ::recv(fd_, read_buffer_.data(), read_buffer_.size(), 0);
  } while (bytes < 0 && errno == EINTR);
  if (bytes < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
    maybe_readable_ = false;
    return;
  }
  if (bytes <= 0) {
    fail();
    return;
  }
  // A read that did not fill the buffer emptied the socket: the next waits for an edge. Not
  // once the peer closed: no edge follows the end of the stream, which the next read must see.
  if (static_cast<size_t>(bytes) < read_buffer_.size() && !peer_closed_) maybe_readable_ = false;
  take_reading().send(std::string(read_buffer_.data(), static_cast<size_t>(bytes)));
}

// The waiting read_some's promise, taken out before it is answered (its answer may start the
// next read_some).
Promise<std::string> RealConnection::take_reading() {
  Promise<std::string> reading = std::move(*reading_);
  reading_.reset();
  return reading;
}

// A burst's first message goes to the socket at once; the messages queued behind it until the
// loop's pass ends go together in one write (RealWorld::run calls end_pass). Holding the first
// back too was tried: both ends then batch in lockstep and point reads fell by half; only
// write_at_pass_end holds it (requests a receiver batches). Writes go straight to the socket
// while it takes them; only a full socket waits for an edge.
void RealConnection::write_more() {
  writing_ = true;
  if (sending_offset_ == sending_.size()) take_batch();
  while (sending_offset_ < sending_.size()) {
    const ssize_t bytes = ::send(fd_, sending_.data() + sending_offset_, sending_.size() - sending_offset_, MSG_NOSIGNAL);
    if (bytes < 0 && errno == EINTR) continue;
    if (bytes < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      waiting_writable_ = true;
      return;
    }
    if (bytes < 0) {
      fail();
      return;
    }
    sending_offset_ += static_cast<size_t>(bytes);
  }
  unsent_bytes_ -= sending_.size();
  sending_.clear();
  sending_offset_ = 0;
  notify_drained();
  held_writes_.push_back(shared_from_this());
}

// Gathers what is queued into sending_, one write (sized first: no reallocation while
// appending).
void RealConnection::take_batch() {
  size_t batch_bytes = 0;
  size_t messages = 0;
  for (const std::string& message : outgoing_) {
    if (batch_bytes >= write_batch_bytes_max) break;
    batch_bytes += message.size();
    ++messages;
  }
  if (messages == 1) {
    sending_ = std::move(outgoing_.front());
    outgoing_.pop_front();
    return;
  }
  sending_.reserve(batch_bytes);
  for (; messages > 0; --messages) {
    sending_.append(outgoing_.front());
    outgoing_.pop_front();
  }
}

void RealConnection::notify_drained() {
  for (auto it = drained_.begin(); it != drained_.end();) {
    if (failed_ || unsent_bytes_ <= it->first) {
      it->second.send(Void{});
      it = drained_.erase(it);
    } else {
      ++it;
    }
  }
}

void RealConnection::fail() {
  if (failed_) return;
  failed_ = true;
  release_socket();
  outgoing_.clear();
  sending_.clear();
  sending_offset_ = 0;
  unsent_bytes_ = 0;
  waiting_writable_ = false;
  notify_drained();
  if (reading_.has_value()) take_reading().send_error(Error(errc::connection_failed));
}

void RealConnection::release_socket() {
  if (fd_ < 0) return;
  if (readiness_id_ != 0) readiness_.remove(fd_, readiness_id_);
  ::shutdown(fd_, SHUT_RDWR);
  ::close(fd_);
  fd_ = -1;
}

}  // namespace keel
