// Transport: one per process; moves messages between endpoints over the world's connections.
//
// - Receivers register under a token; a message for an endpoint of this process is delivered
//   through the scheduler (never inline), one for another process goes over the connection to
//   that address, which the transport opens on demand and keeps (reconnecting with backoff).
//   Within a process, the hot messages of the transaction system (sent_locally_as_object in
//   request_stream.h) go as objects, in the same order, and are never serialized: in the
//   embedded server the proxy, resolver, logs, storage servers and the Redis front end's client
//   would otherwise write and read every mutation several times on their way.
// - Every connection starts with a ConnectPacket: magic, protocol version and the sender's
//   canonical address. A wrong magic or version closes the connection (RpcIncompatiblePeer).
// - Frames (frame.h) that fail their length or checksum check close the connection
//   (RpcFrameRejected); nothing is allocated beyond what was received.
// - Liveness: each side pings every ping_interval; a connection that receives nothing for
//   connection_idle_timeout is closed as failed. This bounds how long a partition can hide.
// - Sending is unreliable: a message to an unreachable address is dropped. A request that went
//   out on a connection that then failed learns it through its PendingReply
//   (request_maybe_delivered); one that never left because no connection could be made gets
//   connection_failed; one sent to a token with no receiver gets broken_promise.
#pragma once

#include <map>
#include <memory>
#include <utility>
#include <string>
#include <string_view>
#include <unordered_map>

#include "rpc/endpoint.h"
#include "rpc/failure_monitor.h"
#include "runtime/combinators.h"
#include "runtime/future.h"
#include "world/world.h"

namespace keel {

// Bumped whenever anything on the wire changes; peers must match exactly.
inline constexpr uint64_t protocol_version = 0x0000'0001'0000'0009ULL;
inline constexpr uint64_t connect_packet_magic = 0x4352'4244'4c45'454bULL;  // "KEELDBRC"

struct ConnectPacket {
  uint64_t magic = connect_packet_magic;
  uint64_t version = protocol_version;
  NetworkAddress canonical_address;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(magic, version, canonical_address);
  }
};

// A message from this process to one of its own receivers, handed over as an object rather than
// serialized (request_stream.h says which types go so).
class LocalMessage {
 public:
  virtual ~LocalMessage() = default;
};

template <class T>
class LocalObject final : public LocalMessage {
 public:
  explicit LocalObject(T object) : value(std::move(object)) {}
  T value;
};

class MessageReceiver {
 public:
  virtual ~MessageReceiver() = default;
  // Handles one message. May throw serialization_failed for a malformed message.
  virtual void receive(std::string_view message) = 0;
  // Handles one message sent from this process as an object, of the type the receiver takes.
  virtual void receive_local(LocalMessage& message);
};

// A request waiting for its reply; told when the connection that carries it fails.
class PendingReply : public detail::ListNode {
 public:
  virtual ~PendingReply() = default;
  virtual void connection_lost(Error error) = 0;

 private:
  friend class Transport;
  uint64_t destination_token_ = 0;
  bool sent_ = false;
};

class Transport : public std::enable_shared_from_this<Transport> {
 public:
  explicit Transport(IWorld& world);
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // The transport of the current process (created on first use).
  static Transport& current();
  static std::shared_ptr<Transport> current_shared();

  // Accepts connections at `address` (port 0 picks one); returns the bound address, which
  // becomes this process's canonical address. Throws bind_failed.
  NetworkAddress listen(NetworkAddress address);
  NetworkAddress local_address() const { return local_address_; }
  FailureMonitor& failure_monitor() { return failure_monitor_; }

  // Registers a receiver under `token` (a well-known one), or a fresh random token if 0.
  uint64_t add_receiver(MessageReceiver* receiver, uint64_t token = 0);
  void remove_receiver(uint64_t token);

  void send(const Endpoint& destination, std::string_view message, PendingReply* pending = nullptr,
            bool at_pass_end = false);
  // Whether `address` is this process's: what is sent there is delivered without the network.
  bool is_local(const NetworkAddress& address) const { return address == local_address_; }
  // Sends `message` to a receiver of this process (is_local), in the same order as send() does.
  void send_local(uint64_t token, std::shared_ptr<LocalMessage> message, PendingReply* pending = nullptr);
  // Ready when there is room to queue more for `address`; connection_failed if there never
  // will be (not connected and already over the limit).
  Future<Void> wait_for_capacity(NetworkAddress address);

  struct Stats {
    uint64_t frames_sent = 0;
    uint64_t frames_received = 0;
    uint64_t frames_rejected = 0;
    uint64_t connections_established = 0;
    uint64_t connections_failed = 0;
  };
  const Stats& stats() const { return stats_; }

 private:
  struct Peer;

  Peer& peer_for(NetworkAddress address);
  void deliver_local(uint64_t token, std::string message);
  void dispatch(uint64_t token, std::string_view message, Peer* from);
  void track_local(uint64_t token, PendingReply* pending);
  void dispatch_local(uint64_t token, LocalMessage& message);
  void ensure_connecting(Peer& peer);
  void adopt(Peer& peer, std::shared_ptr<IConnection> connection);
  void lose_connection(Peer* peer, const std::shared_ptr<IConnection>& connection);
  void fail_pending(Peer& peer, bool sent, Error error);
  void fail_pending_to_token(Peer& peer, uint64_t token);
  template <class Matches>
  void fail_pending_if(Peer& peer, Matches matches, Error error);
  std::string connect_frame() const;

  Future<Void> accept_loop(std::shared_ptr<IListener> listener);
  Future<Void> connect_to(Peer* peer);
  Future<Void> serve_incoming(std::shared_ptr<IConnection> connection);
  Future<Void> read_loop(std::shared_ptr<IConnection> connection, Peer* peer);
  Future<Void> keep_alive(std::shared_ptr<IConnection> connection, const double* last_received);

  IWorld& world_;
  NetworkAddress local_address_;
  FailureMonitor failure_monitor_;
  std::unordered_map<uint64_t, MessageReceiver*> receivers_;
  std::map<NetworkAddress, std::unique_ptr<Peer>> peers_;
  std::shared_ptr<IListener> listener_;
  Stats stats_;
  ActorCollection actors_;  // last: cancelled first, while the rest is still intact
};

}  // namespace keel
