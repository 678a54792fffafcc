// PromiseStream<T> / FutureStream<T>: an unbounded single-consumer queue of values between actors.
//
// Senders push values (never blocking); one consumer takes them in order with
// `co_await stream.next()`. The stream ends when a sender calls `close()` (the consumer then
// gets end_of_stream after the queued values) or `send_error(e)`, or when every PromiseStream is
// dropped (broken_promise). A consumer cancelled while waiting loses no value: values leave the
// queue only when the consumer runs.
//
// Bounded memory is the producer's duty: request streams sit behind RPC limits.
#pragma once

#include <deque>
#include <optional>

#include "runtime/future.h"

namespace keel {

namespace detail {

// The queue shared by a stream's senders and its consumer. Values stay in the queue until the
// consumer actually runs, so a consumer cancelled after being woken loses nothing.
template <class T>
class StreamState {
 public:
  void add_sender() { ++senders_; }
  void del_sender() {
    if (--senders_ == 0 && !end_) end(Error(errc::broken_promise));
  }
  void add_ref() { ++refs_; }
  void del_ref() {
    if (--refs_ == 0) delete this;
  }

  void send(T value) {
    if (end_) return;  // the stream already ended; late values are dropped
    queue_.push_back(std::move(value));
    wake();
  }
  void end(Error error) {
    if (end_) return;
    end_ = error;
    wake();
  }
  Future<T> next() {
    if (!queue_.empty()) {
      Future<T> ready(std::move(queue_.front()));
      queue_.pop_front();
      return ready;
    }
    if (end_) return Future<T>(*end_);
    return wait_for_next(this);
  }
  size_t queued() const { return queue_.size(); }

 private:
  void wake() {
    if (!waiter_) return;
    Promise<Void> waiter = std::move(*waiter_);
    waiter_.reset();
    waiter.send(Void{});
  }
  // Holds a reference to the state for as long as the consumer waits.
  struct Hold {
    StreamState* state;
    explicit Hold(StreamState* held) : state(held) { state->add_ref(); }
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;
    ~Hold() { state->del_ref(); }
  };
  static Future<T> wait_for_next(StreamState* state) {
    Hold hold(state);
    while (state->queue_.empty()) {
      if (state->end_) throw *state->end_;
      KEEL_ASSERT(!state->waiter_ || !state->waiter_->has_futures());  // one consumer at a time
      state->waiter_.emplace();
      co_await state->waiter_->get_future();
    }
    T value = std::move(state->queue_.front());
    state->queue_.pop_front();
    co_return value;
  }

  std::deque<T> queue_;
  std::optional<Promise<Void>> waiter_;
  std::optional<Error> end_;
  int senders_ = 0;
  int refs_ = 0;
};

}  // namespace detail

template <class T>
class FutureStream {
 public:
  FutureStream() = default;
  explicit FutureStream(detail::StreamState<T>* state) : state_(state) { state_->add_ref(); }
  FutureStream(const FutureStream& other) : state_(other.state_) {
    if (state_) state_->add_ref();
  }
  FutureStream& operator=(FutureStream other) {
    std::swap(state_, other.state_);
    return *this;
  }
  ~FutureStream() {
    if (state_) state_->del_ref();
  }

  // The next value; fails with the stream's end error once it ended and is drained.
  Future<T> next() const { return state_->next(); }
  size_t queued() const { return state_->queued(); }
  bool is_valid() const { return state_ != nullptr; }

 private:
  detail::StreamState<T>* state_ = nullptr;
};

template <class T>
class PromiseStream {
 public:
  PromiseStream() : state_(new detail::StreamState<T>()) {
    state_->add_ref();
    state_->add_sender();
  }
  PromiseStream(const PromiseStream& other) : state_(other.state_) {
    state_->add_ref();
    state_->add_sender();
  }
  PromiseStream& operator=(PromiseStream other) {
    std::swap(state_, other.state_);
    return *this;
  }
  ~PromiseStream() {
    if (state_) {
      state_->del_sender();
      state_->del_ref();
    }
  }

  void send(T value) const { state_->send(std::move(value)); }
  void send_error(Error error) const { state_->end(error); }
  void close() const { state_->end(Error(errc::end_of_stream)); }
  FutureStream<T> get_future() const { return FutureStream<T>(state_); }

 private:
  detail::StreamState<T>* state_;
};

}  // namespace keel
