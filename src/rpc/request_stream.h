// Request/reply over the transport.
//
// A request type carries the promise of its reply:
//   struct EchoRequest { std::string text; ReplyPromise<EchoReply> reply; ... serialize ... };
//
// Server side: `RequestStream<EchoRequest> stream;` registers a receiver (random or well-known
// token); `co_await stream.requests().next()` yields requests; `request.reply.send(value)` or
// `.send_error(e)` answers. A request dropped without an answer replies broken_promise.
//
// Client side: `RequestStream<EchoRequest>(endpoint).get_reply(request)` sends the request and
// waits for the reply, or one of: broken_promise (the server dropped it or has no such
// endpoint), request_maybe_delivered (the connection failed after the request went out),
// connection_failed (it never went out). Dropping the returned future forgets the request.
//
// Reply message format: u8 kind (1 value, 0 error) then the serialized value or an i32 code.
#pragma once

#include <memory>
#include <string>
#include <typeinfo>

#include "rpc/serialize.h"
#include "rpc/transport.h"
#include "runtime/stream.h"

namespace keel {

// Message types a process hands to its own receivers as objects, skipping serialization: set to
// true, next to the type, for plain data (and a request's ReplyPromise). Never for a type that
// holds a RequestStream: a copy made on the serving side would keep its receiver alive.
template <class T>
inline constexpr bool sent_locally_as_object = false;
template <>
inline constexpr bool sent_locally_as_object<Void> = true;

// Requests whose receiver gathers them into batches (a proxy's commits): set to true, next to
// the type, and a request goes to its connection with the rest of the sender's loop pass, at its
// end, instead of at once. A client's burst (the commits of every transaction a burst of replies
// let go on) then reaches the receiver whole and forms one batch, where a first one sent alone
// would make a batch (and a log sync) of its own that the rest waits behind.
template <class T>
inline constexpr bool sent_at_pass_end = false;

namespace detail {

// Sends one reply to a reply endpoint; broken_promise if destroyed before sending.
class ReplySender {
 public:
  ReplySender(std::weak_ptr<Transport> transport, Endpoint destination)
      : transport_(std::move(transport)), destination_(destination) {}
  ReplySender(const ReplySender&) = delete;
  ReplySender& operator=(const ReplySender&) = delete;
  ~ReplySender() {
    if (!sent_) send_error(Error(errc::broken_promise));
  }
  void send_message(const std::string& message) {
    KEEL_ASSERT(!sent_);
    sent_ = true;
    if (auto transport = transport_.lock()) transport->send(destination_, message);
  }
  void send_error(Error error) {
    BinaryWriter writer;
    writer(uint8_t{0}, static_cast<int32_t>(error.code()));
    send_message(writer.take());
  }
  // This process's transport when the reply goes to this process (send_local may then send it
  // as an object), else null.
  std::shared_ptr<Transport> local_transport() const {
    auto transport = transport_.lock();
    return transport && transport->is_local(destination_.address) ? transport : nullptr;
  }
  void send_local(Transport& transport, std::shared_ptr<LocalMessage> message) {
    KEEL_ASSERT(!sent_);
    sent_ = true;
    transport.send_local(destination_.token, std::move(message));
  }
  bool sent() const { return sent_; }

 private:
  std::weak_ptr<Transport> transport_;
  Endpoint destination_;
  bool sent_ = false;
};

// The client's side of one outstanding request: a one-shot receiver for the reply.
template <class T>
class ReplyState final : public SharedState<T>, public MessageReceiver, public PendingReply {
 public:
  explicit ReplyState(std::shared_ptr<Transport> transport) : transport_(transport) {
    token_ = transport->add_receiver(this);
  }
  ~ReplyState() override { release(); }
  uint64_t token() const { return token_; }

  void receive(std::string_view message) override {
    if (this->is_ready()) return;
    try {
      BinaryReader reader(message);
      uint8_t kind = 0;
      reader(kind);
      if (kind == 0) {
        int32_t code = 0;
        reader(code);
        reader.expect_end();
        finish_error(Error(code));
        return;
      }
      if (kind != 1) throw Error(errc::serialization_failed);
      T value{};
      reader(value);
      reader.expect_end();
      this->add_ref();  // sending may drop the last future, and with it this state
      release();
      this->send(std::move(value));
      this->del_ref();
    } catch (const Error& error) {
      finish_error(error);  // a malformed reply fails the request rather than hanging it
      throw;
    }
  }
  void receive_local(LocalMessage& message) override {
    if (this->is_ready()) return;
    KEEL_ASSERT(typeid(message) == typeid(LocalObject<T>));
    T value = std::move(static_cast<LocalObject<T>&>(message).value);
    this->add_ref();  // as in receive()
    release();
    this->send(std::move(value));
    this->del_ref();
  }
  void connection_lost(Error error) override { finish_error(error); }

 private:
  void finish_error(Error error) {
    if (this->is_ready()) return;
    this->add_ref();
    release();
    this->send_error(error);
    this->del_ref();
  }
  void release() {
    PendingReply::unlink();
    if (token_ == 0) return;
    if (auto transport = transport_.lock()) transport->remove_receiver(token_);
    token_ = 0;
  }
  void cancel() override { release(); }

  std::weak_ptr<Transport> transport_;
  uint64_t token_ = 0;
};

template <class Request>
struct ReplyTypeOf;

}  // namespace detail

template <class T>
class ReplyPromise {
 public:
  ReplyPromise() = default;
  explicit ReplyPromise(Endpoint destination) : endpoint_(destination) {}

  void send(const T& value) const {
    KEEL_ASSERT(sender_);
    if constexpr (sent_locally_as_object<T>) {
      if (auto local = sender_->local_transport()) return sender_->send_local(*local, std::make_shared<LocalObject<T>>(value));
    }
    send_bytes(value);
  }
  void send(T&& value) const {
    KEEL_ASSERT(sender_);
    if constexpr (sent_locally_as_object<T>) {
      if (auto local = sender_->local_transport()) {
        return sender_->send_local(*local, std::make_shared<LocalObject<T>>(std::move(value)));
      }
    }
    send_bytes(value);
  }
  void send_error(Error error) const {
    KEEL_ASSERT(sender_);
    sender_->send_error(error);
  }
  bool is_set() const { return sender_ && sender_->sent(); }
  const Endpoint& endpoint() const { return endpoint_; }

  template <class Archive>
  void serialize(Archive& archive) {
    archive(endpoint_);
    if constexpr (Archive::is_reader) start_serving();
  }
  // On the serving side, once the request arrived: replies may be sent.
  void start_serving() { sender_ = std::make_shared<detail::ReplySender>(Transport::current_shared(), endpoint_); }

 private:
  void send_bytes(const T& value) const {
    BinaryWriter writer;
    writer(uint8_t{1});
    writer.write(value);
    sender_->send_message(writer.take());
  }

  Endpoint endpoint_;
  std::shared_ptr<detail::ReplySender> sender_;  // set on the serving side
};

namespace detail {
template <class Request>
struct ReplyTypeOf {
  template <class R>
  static R extract(ReplyPromise<R>*);
  using type = decltype(extract(static_cast<decltype(Request::reply)*>(nullptr)));
};

// Receives requests for one RequestStream and queues them for the server.
template <class Request>
class RequestReceiver final : public MessageReceiver {
 public:
  RequestReceiver(std::shared_ptr<Transport> transport, uint64_t well_known)
      : transport_(transport), token_(transport->add_receiver(this, well_known)) {}
  ~RequestReceiver() override {
    if (auto transport = transport_.lock()) transport->remove_receiver(token_);
  }
  void receive(std::string_view message) override {
    stream_.send(deserialize_from_string<Request>(message));
  }
  void receive_local(LocalMessage& message) override {
    KEEL_ASSERT(typeid(message) == typeid(LocalObject<Request>));
    Request request = std::move(static_cast<LocalObject<Request>&>(message).value);
    request.reply.start_serving();
    stream_.send(std::move(request));
  }
  uint64_t token() const { return token_; }
  FutureStream<Request> requests() const { return stream_.get_future(); }

 private:
  std::weak_ptr<Transport> transport_;
  uint64_t token_;
  PromiseStream<Request> stream_;
};
}  // namespace detail

template <class Request>
class RequestStream {
 public:
  using Reply = typename detail::ReplyTypeOf<Request>::type;

  // A client-side handle, or nothing, until assigned.
  RequestStream() = default;
  explicit RequestStream(Endpoint endpoint) : endpoint_(endpoint) {}

  // Serves requests in the current process, at a random token or a well-known one.
  static RequestStream serve(uint64_t well_known_token = 0) {
    auto transport = Transport::current_shared();
    RequestStream stream;
    stream.receiver_ = std::make_shared<detail::RequestReceiver<Request>>(transport, well_known_token);
    stream.endpoint_ = Endpoint{transport->local_address(), stream.receiver_->token()};
    return stream;
  }

  const Endpoint& endpoint() const { return endpoint_; }
  // Server side only.
  FutureStream<Request> requests() const {
    KEEL_ASSERT(receiver_);
    return receiver_->requests();
  }

  // Sends at once when the destination's queue has room, and then returns the reply's own future:
  // no coroutine between it and the caller, whose every level costs a turn of the scheduler.
  // Otherwise sends once there is room.
  Future<Reply> get_reply(Request request) const {
    std::shared_ptr<Transport> transport = Transport::current_shared();
    Future<Void> capacity = transport->wait_for_capacity(endpoint_.address);
    if (capacity.is_ready() && !capacity.is_error()) return send_request(*transport, endpoint_, std::move(request));
    return get_reply_when_room(std::move(transport), std::move(capacity), endpoint_, std::move(request));
  }

  template <class Archive>
  void serialize(Archive& archive) {
    archive(endpoint_);
  }

 private:
  static Future<Reply> send_request(Transport& transport, Endpoint destination, Request request) {
    auto* state = new detail::ReplyState<Reply>(transport.shared_from_this());
    Future<Reply> reply(state);
    request.reply = ReplyPromise<Reply>(Endpoint{transport.local_address(), state->token()});
    if constexpr (sent_locally_as_object<Request>) {
      if (transport.is_local(destination.address)) {
        transport.send_local(destination.token, std::make_shared<LocalObject<Request>>(std::move(request)), state);
        return reply;
      }
    }
    transport.send(destination, serialize_to_string(request), state, sent_at_pass_end<Request>);
    return reply;
  }
  static Future<Reply> get_reply_when_room(std::shared_ptr<Transport> transport, Future<Void> capacity,
                                           Endpoint destination, Request request) {
    co_await capacity;
    Future<Reply> reply = send_request(*transport, destination, std::move(request));
    co_return co_await std::move(reply);
  }

  Endpoint endpoint_;
  std::shared_ptr<detail::RequestReceiver<Request>> receiver_;
};

}  // namespace keel
