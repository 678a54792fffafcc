#include "sim/sim_network.h"

#include "runtime/error.h"
#include "runtime/scheduler.h"

namespace keel::sim {

void SimConnection::write(std::string bytes) {
  if (closed_ || bytes.empty()) return;
  std::shared_ptr<SimConnection> peer = peer_.lock();
  if (!peer) return;
  const double arrival = std::max(network_.arrival_time(local_.ip, peer_address_.ip), last_arrival_);
  last_arrival_ = arrival;
  scheduler().schedule(arrival, priority::rpc, peer->owner_process_,
                       [self = shared_from_this(), peer, generation = generation_, bytes = std::move(bytes)]() mutable {
                         if (self->generation_ != generation) return;  // broken in flight: lost
                         peer->deliver(std::move(bytes));
                       });
}

void SimConnection::deliver(std::string bytes) {
  if (closed_) return;
  network_.bytes_delivered_ += bytes.size();
  if (reader_ && reader_->has_futures()) {
    Promise<std::string> reader = std::move(*reader_);
    reader_.reset();
    reader.send(std::move(bytes));
    return;
  }
  reader_.reset();
  incoming_.push_back(std::move(bytes));
}

Future<std::string> SimConnection::read_some() {
  if (!incoming_.empty()) {
    std::string bytes;
    for (std::string& chunk : incoming_) bytes += chunk;
    incoming_.clear();
    return bytes;
  }
  if (closed_ || peer_finished_) return Error(errc::connection_failed);
  reader_.emplace();
  return reader_->get_future();
}

void SimConnection::fail_reader() {
  if (!reader_) return;
  Promise<std::string> reader = std::move(*reader_);
  reader_.reset();
  reader.send_error(Error(errc::connection_failed));
}

void SimConnection::close() {
  if (closed_) return;
  closed_ = true;
  incoming_.clear();
  fail_reader();
  std::shared_ptr<SimConnection> peer = peer_.lock();
  if (!peer) return;
  // The FIN follows the bytes already sent.
  const double arrival = std::max(network_.arrival_time(local_.ip, peer_address_.ip), last_arrival_);
  last_arrival_ = arrival;
  scheduler().schedule(arrival, priority::rpc, peer->owner_process_, [peer] { peer->peer_closed(); });
}

void SimConnection::peer_closed() {
  peer_finished_ = true;
  if (incoming_.empty()) fail_reader();
}

void SimConnection::break_connection() {
  if (closed_ && generation_ > 0) return;
  closed_ = true;
  ++generation_;
  incoming_.clear();
  fail_reader();
  std::shared_ptr<SimConnection> peer = peer_.lock();
  if (!peer) return;
  const double arrival = network_.arrival_time(local_.ip, peer_address_.ip);
  scheduler().schedule(arrival, priority::rpc, peer->owner_process_, [peer] {
    peer->closed_ = true;
    ++peer->generation_;
    peer->incoming_.clear();
    peer->fail_reader();
  });
}

SimListener::~SimListener() { network_.remove_listener(address_, this); }

Future<std::shared_ptr<IConnection>> SimListener::accept() {
  if (!backlog_.empty()) {
    std::shared_ptr<IConnection> connection = std::move(backlog_.front());
    backlog_.pop_front();
    return connection;
  }
  acceptor_.emplace();
  return acceptor_->get_future();
}

void SimListener::offer(std::shared_ptr<IConnection> connection) {
  if (acceptor_ && acceptor_->has_futures()) {
    Promise<std::shared_ptr<IConnection>> acceptor = std::move(*acceptor_);
    acceptor_.reset();
    acceptor.send(std::move(connection));
    return;
  }
  acceptor_.reset();
  backlog_.push_back(std::move(connection));
}

std::shared_ptr<IListener> SimNetwork::listen(NetworkAddress address, uint32_t process) {
  if (listeners_.count(address) != 0) throw Error(errc::bind_failed);
  auto listener = std::make_shared<SimListener>(*this, address, process);
  listeners_[address] = listener.get();
  return listener;
}

void SimNetwork::remove_listener(NetworkAddress address, SimListener* listener) {
  auto it = listeners_.find(address);
  if (it != listeners_.end() && it->second == listener) listeners_.erase(it);
}

Future<std::shared_ptr<IConnection>> SimNetwork::connect(NetworkAddress from, NetworkAddress to, uint32_t process) {
  Promise<std::shared_ptr<IConnection>> promise;
  Future<std::shared_ptr<IConnection>> result = promise.get_future();
  const double syn_arrival = arrival_time(from.ip, to.ip);
  scheduler().schedule(syn_arrival, priority::rpc, process, [this, from, to, process, promise] {
    if (!promise.has_futures()) return;  // the caller gave up before the attempt arrived
    auto it = listeners_.find(to);
    const double answer_arrival = arrival_time(to.ip, from.ip);
    if (it == listeners_.end()) {
      scheduler().schedule(answer_arrival, priority::rpc, process,
                           [promise] { promise.send_error(Error(errc::connection_failed)); });
      return;
    }
    auto client = std::make_shared<SimConnection>(*this, from, to, process);
    auto server = std::make_shared<SimConnection>(*this, to, from, it->second->process());
    client->peer_ = server;
    server->peer_ = client;
    track(client);
    track(server);
    it->second->offer(server);
    scheduler().schedule(answer_arrival, priority::rpc, process, [promise, client] {
      if (promise.has_futures()) {
        promise.send(client);
      } else {
        client->close();
      }
    });
  });
  return result;
}

void SimNetwork::track(const std::shared_ptr<SimConnection>& connection) {
  if (connections_.size() > 64 && connections_.size() % 64 == 0) {
    std::erase_if(connections_, [](const std::weak_ptr<SimConnection>& weak) { return weak.expired(); });
  }
  connections_.push_back(connection);
}

SimNetwork::Link& SimNetwork::link(uint32_t from_ip, uint32_t to_ip) {
  auto [it, inserted] = links_.try_emplace({from_ip, to_ip});
  if (inserted) {
    it->second.latency = from_ip == to_ip ? 0.00001 : 0.0001 + random_.random01() * 0.0009;
  }
  return it->second;
}

double SimNetwork::arrival_time(uint32_t from_ip, uint32_t to_ip) {
  Link& path = link(from_ip, to_ip);
  const double arrival = now() + path.latency * (1.0 + 0.2 * random_.random01());
  return std::max(arrival, path.clogged_until);
}

double SimNetwork::clogged_until(uint32_t from_ip, uint32_t to_ip) const {
  auto it = links_.find({from_ip, to_ip});
  return it == links_.end() ? 0 : it->second.clogged_until;
}

void SimNetwork::clog(uint32_t from_ip, uint32_t to_ip, double seconds) {
  Link& path = link(from_ip, to_ip);
  path.clogged_until = std::max(path.clogged_until, now() + seconds);
}

void SimNetwork::break_connections_of(uint32_t process) {
  std::vector<std::shared_ptr<SimConnection>> victims;
  for (const std::weak_ptr<SimConnection>& weak : connections_) {
    if (auto connection = weak.lock(); connection && connection->owner_process_ == process) {
      victims.push_back(connection);
    }
  }
  for (auto& connection : victims) connection->break_connection();
}

bool SimNetwork::break_random_connection() {
  std::vector<std::shared_ptr<SimConnection>> open;
  for (const std::weak_ptr<SimConnection>& weak : connections_) {
    if (auto connection = weak.lock(); connection && !connection->closed_) open.push_back(connection);
  }
  if (open.empty()) return false;
  open[static_cast<size_t>(random_.random_int(0, static_cast<int64_t>(open.size())))]->break_connection();
  return true;
}

}  // namespace keel::sim
