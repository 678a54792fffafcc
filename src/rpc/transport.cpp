#include "rpc/transport.h"

#include <vector>

#include "rpc/frame.h"
#include "rpc/rpc_knobs.h"
#include "rpc/serialize.h"
#include "runtime/random.h"
#include "runtime/scheduler.h"
#include "runtime/trace.h"

namespace keel {

struct Transport::Peer {
  NetworkAddress address;
  std::shared_ptr<IConnection> connection;  // handshake sent; used for sending
  bool connecting = false;
  std::string unsent;  // frames waiting for a connection
  detail::ListNode pending;
  double reconnect_delay = 0;
  double next_connect_time = 0;

  explicit Peer(NetworkAddress peer_address) : address(peer_address) {
    pending.make_head();
    reconnect_delay = rpc_knobs().reconnect_delay_initial_seconds;
  }
  ~Peer() {
    while (!pending.empty_head()) pending.front()->unlink();
    pending.unlink();
  }
};

namespace {

// A process that does not listen still needs a unique address for its reply endpoints: one in
// 0.0.0.0/8, which no real host uses, so nobody ever connects to it.
NetworkAddress client_address() {
  const uint64_t bits = deterministic_random().next_u64();
  return NetworkAddress{static_cast<uint32_t>(bits & 0x00ffffff) | 1u, static_cast<uint16_t>(bits >> 32)};
}

}  // namespace

Transport::Transport(IWorld& world) : world_(world) {
  local_address_ = world.local_address().is_valid() ? world.local_address() : client_address();
}

Transport::~Transport() {
  actors_.clear();
  for (auto& [address, peer] : peers_) {
    if (peer->connection) peer->connection->close();
    fail_pending(*peer, true, Error(errc::request_maybe_delivered));
    fail_pending(*peer, false, Error(errc::connection_failed));
  }
}

Transport& Transport::current() { return *current_shared(); }

std::shared_ptr<Transport> Transport::current_shared() {
  std::shared_ptr<void>& slot = world().local(LocalSlot::transport);
  if (!slot) slot = std::make_shared<Transport>(world());
  return std::static_pointer_cast<Transport>(slot);
}

NetworkAddress Transport::listen(NetworkAddress address) {
  KEEL_ASSERT(!listener_);
  listener_ = world_.listen(address);
  local_address_ = listener_->address();
  actors_.add(accept_loop(listener_));
  return local_address_;
}

uint64_t Transport::add_receiver(MessageReceiver* receiver, uint64_t token) {
  if (token == 0) {
    do {
      token = deterministic_random().next_u64();
    } while (token < well_known_token_max || receivers_.count(token) != 0);
  }
  KEEL_ASSERT(receivers_.count(token) == 0);
  receivers_[token] = receiver;
  return token;
}

void Transport::remove_receiver(uint64_t token) { receivers_.erase(token); }

Transport::Peer& Transport::peer_for(NetworkAddress address) {
  std::unique_ptr<Peer>& peer = peers_[address];
  if (!peer) peer = std::make_unique<Peer>(address);
  return *peer;
}

void MessageReceiver::receive_local(LocalMessage&) {
  KEEL_ASSERT(false);  // only receivers of types sent as objects get them (request_stream.h)
}

void Transport::send(const Endpoint& destination, std::string_view message, PendingReply* pending, bool at_pass_end) {
  if (destination.address == local_address_) {
    track_local(destination.token, pending);
    deliver_local(destination.token, std::string(message));
    return;
  }
  Peer& peer = peer_for(destination.address);
  std::string frame;
  encode_frame(destination.token, message, frame);
  ++stats_.frames_sent;
  if (pending != nullptr) {
    pending->destination_token_ = destination.token;
    pending->sent_ = peer.connection != nullptr;
    peer.pending.push_back(pending);
  }
  if (peer.connection && at_pass_end) {
    peer.connection->write_at_pass_end(std::move(frame));
  } else if (peer.connection) {
    peer.connection->write(std::move(frame));
  } else {
    peer.unsent += frame;
    ensure_connecting(peer);
  }
}

Future<Void> Transport::wait_for_capacity(NetworkAddress address) {
  auto it = peers_.find(address);
  if (it == peers_.end()) return Void{};
  Peer& peer = *it->second;
  const auto limit = static_cast<size_t>(rpc_knobs().peer_unsent_bytes_max);
  if (peer.connection) {
    if (peer.connection->bytes_unsent() <= limit) return Void{};
    return peer.connection->on_unsent_at_most(limit / 2);
  }
  if (peer.unsent.size() > limit) return Error(errc::connection_failed);
  return Void{};
}

// A request to a receiver of this process learns through the local peer that it has none.
void Transport::track_local(uint64_t token, PendingReply* pending) {
  if (pending == nullptr) return;
  pending->destination_token_ = token;
  pending->sent_ = true;
  peer_for(local_address_).pending.push_back(pending);
}

void Transport::send_local(uint64_t token, std::shared_ptr<LocalMessage> message, PendingReply* pending) {
  track_local(token, pending);
  std::weak_ptr<Transport> weak = weak_from_this();
  scheduler().schedule(now(), priority::rpc, scheduler().current_process(), [weak, token, message = std::move(message)] {
    if (auto self = weak.lock()) self->dispatch_local(token, *message);
  });
}

void Transport::dispatch_local(uint64_t token, LocalMessage& message) {
  ++stats_.frames_received;
  auto it = receivers_.find(token);
  if (it == receivers_.end()) {
    TraceEvent(Severity::debug, "RpcEndpointNotFound").detail("Token", token).suppress_for(1.0);
    fail_pending_to_token(peer_for(local_address_), token);
    return;
  }
  it->second->receive_local(message);
}

void Transport::deliver_local(uint64_t token, std::string message) {
  std::weak_ptr<Transport> weak = weak_from_this();
  scheduler().schedule(now(), priority::rpc, scheduler().current_process(),
                       [weak, token, message = std::move(message)] {
                         if (auto self = weak.lock()) self->dispatch(token, message, nullptr);
                       });
}

void Transport::dispatch(uint64_t token, std::string_view message, Peer* from) {
  ++stats_.frames_received;
  if (token == well_known_token::ping) return;
  if (token == well_known_token::endpoint_not_found) {
    if (from != nullptr && message.size() == sizeof(uint64_t)) {
      fail_pending_to_token(*from, deserialize_from_string<uint64_t>(message));
    }
    return;
  }
  auto it = receivers_.find(token);
  if (it == receivers_.end()) {
    TraceEvent(Severity::debug, "RpcEndpointNotFound").detail("Token", token).suppress_for(1.0);
    if (from == nullptr) {
      fail_pending_to_token(peer_for(local_address_), token);  // a request to ourselves
    } else {
      send(Endpoint{from->address, well_known_token::endpoint_not_found}, serialize_to_string(token));
    }
    return;
  }
  try {
    it->second->receive(message);
  } catch (const Error& error) {
    ++stats_.frames_rejected;
    TraceEvent(Severity::warn, "RpcMessageMalformed").detail("Token", token).error(error).suppress_for(1.0);
  }
}

void Transport::ensure_connecting(Peer& peer) {
  if (peer.connecting || peer.connection) return;
  peer.connecting = true;
  actors_.add(connect_to(&peer));
}

std::string Transport::connect_frame() const {
  ConnectPacket packet;
  packet.canonical_address = local_address_;
  std::string frame;
  encode_frame(well_known_token::connect_packet, serialize_to_string(packet), frame);
  return frame;
}

void Transport::adopt(Peer& peer, std::shared_ptr<IConnection> connection) {
  peer.connection = std::move(connection);
  peer.connecting = false;
  peer.reconnect_delay = rpc_knobs().reconnect_delay_initial_seconds;
  ++stats_.connections_established;
  if (!peer.unsent.empty()) {
    peer.connection->write(std::move(peer.unsent));
    peer.unsent.clear();
  }
  for (detail::ListNode* node = peer.pending.front(); node != &peer.pending;) {
    static_cast<PendingReply*>(node)->sent_ = true;
    node = node->next();
  }
  failure_monitor_.set_failed(peer.address, false);
}

namespace {

// Fails every reply on `failing`, a list of their own: failing one may run callbacks that drop
// others (a race over replies ends and drops its other inputs), and a reply that goes away
// leaves the list by itself, so each is taken off the list only as it fails.
void fail_each(detail::ListNode& failing, Error error) {
  while (!failing.empty_head()) {
    auto* pending = static_cast<PendingReply*>(failing.front());
    pending->unlink();
    pending->connection_lost(error);
  }
  failing.unlink();
}

}  // namespace

template <class Matches>
void Transport::fail_pending_if(Peer& peer, Matches matches, Error error) {
  detail::ListNode failing;
  failing.make_head();
  for (detail::ListNode* node = peer.pending.front(); node != &peer.pending;) {
    detail::ListNode* next = node->next();
    if (matches(*static_cast<PendingReply*>(node))) {
      node->unlink();
      failing.push_back(node);
    }
    node = next;
  }
  fail_each(failing, error);
}

void Transport::fail_pending(Peer& peer, bool sent, Error error) {
  fail_pending_if(peer, [sent](const PendingReply& pending) { return pending.sent_ == sent; }, error);
}

void Transport::fail_pending_to_token(Peer& peer, uint64_t token) {
  fail_pending_if(peer, [token](const PendingReply& pending) { return pending.destination_token_ == token; },
                  Error(errc::broken_promise));
}

void Transport::lose_connection(Peer* peer, const std::shared_ptr<IConnection>& connection) {
  connection->close();
  if (peer == nullptr) return;
  // Replies may come back on either connection between two processes, so losing any of them
  // may lose a reply: every request sent to the peer learns its fate now.
  fail_pending(*peer, true, Error(errc::request_maybe_delivered));
  if (peer->connection != connection) return;
  peer->connection = nullptr;
  ++stats_.connections_failed;
  failure_monitor_.set_failed(peer->address, true);
  if (!peer->unsent.empty()) ensure_connecting(*peer);
}

Future<Void> Transport::accept_loop(std::shared_ptr<IListener> listener) {
  while (true) {
    Future<std::shared_ptr<IConnection>> accepted = listener->accept();
    co_await ready(accepted);
    if (accepted.is_error()) {
      // Out of descriptors, an aborted handshake...: keep listening, a little later.
      TraceEvent(Severity::warn_always, "RpcAcceptFailed").error(accepted.error()).suppress_for(1.0);
      co_await delay(0.1);
      continue;
    }
    actors_.add(serve_incoming(accepted.get()));
  }
}

Future<Void> Transport::connect_to(Peer* peer) {
  const double wait = peer->next_connect_time - now();
  if (wait > 0) co_await delay(wait);
  if (peer->connection) {  // the peer connected to us meanwhile
    peer->connecting = false;
    co_return Void{};
  }
  std::shared_ptr<IConnection> connection;
  try {
    Future<std::shared_ptr<IConnection>> connecting = world_.connect(peer->address);
    connection = co_await timeout_error(connecting, rpc_knobs().connect_timeout_seconds);
  } catch (const Error& error) {
    TraceEvent(Severity::debug, "RpcConnectFailed")
        .detail("Peer", peer->address.to_string())
        .error(error)
        .suppress_for(1.0);
  }
  if (!connection) {
    peer->connecting = false;
    // The peer connected to us while this attempt failed: it is reachable (and its connection
    // took what was unsent). Marked failed now, it would stay so while that connection lives
    // (recovery_partition seed 10020: a worker gave up on a reachable controller for good).
    if (peer->connection) co_return Void{};
    peer->next_connect_time = now() + peer->reconnect_delay;
    peer->reconnect_delay = std::min(peer->reconnect_delay * 2, rpc_knobs().reconnect_delay_max_seconds);
    ++stats_.connections_failed;
    failure_monitor_.set_failed(peer->address, true);
    peer->unsent.clear();
    fail_pending(*peer, false, Error(errc::connection_failed));
    co_return Void{};
  }
  connection->write(connect_frame());
  if (peer->connection) {
    peer->connecting = false;  // an incoming connection was adopted meanwhile: keep it
  } else {
    adopt(*peer, connection);
  }
  co_await read_loop(connection, peer);
  co_return Void{};
}

Future<Void> Transport::serve_incoming(std::shared_ptr<IConnection> connection) {
  connection->write(connect_frame());
  co_await read_loop(connection, nullptr);
  co_return Void{};
}

Future<Void> Transport::read_loop(std::shared_ptr<IConnection> connection, Peer* peer) {
  double last_received = now();
  Future<Void> keep_alive_actor = keep_alive(connection, &last_received);
  FrameDecoder decoder;
  bool handshake_done = false;
  try {
    while (true) {
      std::string bytes = co_await connection->read_some();
      last_received = now();
      decoder.feed(bytes);
      while (std::optional<Frame> frame = decoder.next()) {
        if (handshake_done) {
          dispatch(frame->token, frame->message, peer);
          continue;
        }
        const auto packet = deserialize_from_string<ConnectPacket>(frame->message);
        if (frame->token != well_known_token::connect_packet || packet.magic != connect_packet_magic ||
            packet.version != protocol_version) {
          TraceEvent(Severity::warn_always, "RpcIncompatiblePeer")
              .detail("Peer", connection->peer_address().to_string())
              .detail("Version", packet.version)
              .suppress_for(1.0);
          throw Error(errc::incompatible_protocol_version);
        }
        handshake_done = true;
        if (peer == nullptr) {
          Peer& known = peer_for(packet.canonical_address);
          if (!known.connection) adopt(known, connection);
          peer = &known;
        }
      }
    }
  } catch (const Error& error) {
    if (error.code() != errc::connection_failed) {
      ++stats_.frames_rejected;
      TraceEvent(Severity::warn, "RpcFrameRejected")
          .detail("Peer", connection->peer_address().to_string())
          .error(error)
          .suppress_for(1.0);
    }
  }
  lose_connection(peer, connection);
  co_return Void{};
}

Future<Void> Transport::keep_alive(std::shared_ptr<IConnection> connection, const double* last_received) {
  std::string ping;
  encode_frame(well_known_token::ping, "", ping);
  while (true) {
    co_await delay(rpc_knobs().ping_interval_seconds);
    if (now() - *last_received > rpc_knobs().connection_idle_timeout_seconds) {
      TraceEvent(Severity::info, "RpcConnectionIdleTimeout")
          .detail("Peer", connection->peer_address().to_string())
          .suppress_for(1.0);
      connection->close();
      co_return Void{};
    }
    connection->write(ping);
  }
}

}  // namespace keel
