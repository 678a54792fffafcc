// Future<T>, Promise<T> and the coroutine type of KeelDB's single-threaded runtime.
//
// A Promise and the Futures made from it share one reference-counted state that ends up holding
// a value or an Error. A function returning Future<T> that uses co_await/co_return is a
// coroutine; it starts eagerly (runs until its first suspension inside the call) and completes
// its Future when it returns or throws.
//
// Contracts:
// - Single thread: states are touched only by the thread running their Scheduler.
// - Waiters never run inline: when a state becomes ready, each coroutine waiting on it is put on
//   the scheduler's ready queue. Code after `promise.send()` continues before any waiter runs.
// - Cancellation: when the last Future to a still-running coroutine is dropped, the coroutine's
//   frame is destroyed at its suspension point (destructors of its locals run, which drops the
//   Futures it was waiting on and so cancels its callees in turn). If it is executing at that
//   moment, the destruction is queued and happens before it can be resumed again. Dropping the
//   Futures of a plain Promise cancels nothing.
// - Dropping every Promise of an unset state sets it to broken_promise.
#pragma once

#include <coroutine>
#include <cstdint>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "runtime/assert.h"
#include "runtime/error.h"

namespace keel {

// The value type of a Future that carries no value.
struct Void {
  template <class Archive>
  void serialize(Archive&) {}
  bool operator==(const Void&) const = default;
};

template <class T>
class Future;
template <class T>
class Promise;

namespace detail {

// An intrusive doubly-linked list node; unlinks itself on destruction.
class ListNode {
 public:
  ListNode() = default;
  ListNode(const ListNode&) = delete;
  ListNode& operator=(const ListNode&) = delete;
  ~ListNode() { unlink(); }

  bool linked() const { return next_ != nullptr; }
  void unlink() {
    if (next_ != nullptr) {
      prev_->next_ = next_;
      next_->prev_ = prev_;
      prev_ = next_ = nullptr;
    }
  }
  void make_head() { prev_ = next_ = this; }
  bool empty_head() const { return next_ == this; }
  void push_back(ListNode* node) {
    KEEL_ASSERT(!node->linked());
    node->prev_ = prev_;
    node->next_ = this;
    prev_->next_ = node;
    prev_ = node;
  }
  ListNode* front() const { return next_; }
  ListNode* next() const { return next_; }

 private:
  ListNode* prev_ = nullptr;
  ListNode* next_ = nullptr;
};

// Something waiting for a state to become ready. Fired at most once, after being unlinked.
class Callback : public ListNode {
 public:
  virtual ~Callback() = default;
  virtual void fire() = 0;
};

enum class Status : uint8_t { pending, value, error };

class StateBase;

// Implemented by the scheduler: queue a resumption of the coroutine owning `state`, or the
// deferred destruction of a coroutine that was cancelled while executing.
void schedule_resume(StateBase* state, std::coroutine_handle<> handle);
void schedule_cancel(StateBase* state);
uint32_t current_process_id();
// Reports a non-Error exception escaping a coroutine (a bug) to the trace log.
void report_unexpected_exception(const char* what);

// The part of a shared state that does not depend on T.
class StateBase {
 public:
  StateBase() { waiters_.make_head(); }
  StateBase(const StateBase&) = delete;
  StateBase& operator=(const StateBase&) = delete;
  virtual ~StateBase() { KEEL_ASSERT(waiters_.empty_head()); }

  bool is_ready() const { return status_ != Status::pending; }
  bool is_error() const { return status_ == Status::error; }
  const Error& error() const {
    KEEL_ASSERT(is_error());
    return error_;
  }
  int future_refs() const { return future_refs_; }
  int promise_refs() const { return promise_refs_; }

  void add_waiter(Callback* callback) {
    KEEL_ASSERT(!is_ready());
    waiters_.push_back(callback);
  }

  void add_future_ref() { ++future_refs_; }
  void del_future_ref() {
    KEEL_ASSERT(future_refs_ > 0);
    if (--future_refs_ == 0 && status_ == Status::pending) {
      ++other_refs_;
      cancel();
      --other_refs_;
    }
    free_if_unreferenced();
  }
  void add_promise_ref() { ++promise_refs_; }
  void del_promise_ref() {
    KEEL_ASSERT(promise_refs_ > 0);
    if (--promise_refs_ == 0 && status_ == Status::pending) complete_with_error(Error(errc::broken_promise));
    free_if_unreferenced();
  }
  void add_ref() { ++other_refs_; }
  void del_ref() {
    KEEL_ASSERT(other_refs_ > 0);
    --other_refs_;
    free_if_unreferenced();
  }

  // Completes the state with `error`. A waiter may drop every reference to this state; it is
  // then freed here, so callers must not touch the state after sending.
  void send_error(Error error) {
    complete_with_error(error);
    free_if_unreferenced();
  }

  // Coroutine bookkeeping; empty for states made by a plain Promise.
  std::coroutine_handle<> coroutine_;
  uint32_t process_id_ = 0;
  bool executing_ = false;

  // Destroys the coroutine frame if it is still wanted by nobody (used by the scheduler).
  void destroy_unwanted_coroutine() {
    if (coroutine_ && !executing_ && future_refs_ == 0 && status_ == Status::pending) {
      std::coroutine_handle<> frame = coroutine_;
      frame.destroy();
    }
  }

 protected:
  void free_if_unreferenced() {
    if (future_refs_ == 0 && promise_refs_ == 0 && other_refs_ == 0) delete this;
  }
  // Fires every waiter, holding a reference meanwhile; never frees the state (see send()).
  void fire_waiters() {
    ++other_refs_;
    while (!waiters_.empty_head()) {
      auto* callback = static_cast<Callback*>(waiters_.front());
      callback->unlink();
      callback->fire();
    }
    --other_refs_;
  }
  void complete_with_error(Error error) {
    KEEL_ASSERT(status_ == Status::pending);
    error_ = error;
    status_ = Status::error;
    fire_waiters();
  }
  // Called when the last Future of a pending state is dropped.
  virtual void cancel() {
    if (!coroutine_) return;
    if (executing_) {
      schedule_cancel(this);
    } else {
      std::coroutine_handle<> frame = coroutine_;
      frame.destroy();
    }
  }
  Status status_ = Status::pending;

 private:
  ListNode waiters_;
  Error error_;
  int future_refs_ = 0;
  int promise_refs_ = 0;
  int other_refs_ = 0;
};

template <class T>
class SharedState : public StateBase {
 public:
  // Completes the state with `value`; like send_error, may free the state.
  void send(T value) {
    KEEL_ASSERT(status_ == Status::pending);
    value_.emplace(std::move(value));
    status_ = Status::value;
    fire_waiters();
    this->free_if_unreferenced();
  }
  const T& value() const {
    KEEL_ASSERT(status_ == Status::value);
    return *value_;
  }
  T& mutable_value() {
    KEEL_ASSERT(status_ == Status::value);
    return *value_;
  }

 private:
  std::optional<T> value_;
};

template <class T>
class CoroutinePromise;

// Awaits a Future from inside a coroutine: the value (or the error, thrown), or with
// kTakesValue false only the moment it is ready (ready() in combinators.h), so a value that
// others still read is not copied for nothing.
template <class T, bool kTakesValue = true>
class FutureAwaiter final : public Callback {
 public:
  explicit FutureAwaiter(Future<T> future) : future_(std::move(future)) {}
  FutureAwaiter(FutureAwaiter&& other) noexcept : future_(std::move(other.future_)) {
    KEEL_ASSERT(!other.linked());
  }
  ~FutureAwaiter() override { unlink(); }  // before `future_` goes, which may free its state

  bool await_ready() const { return future_.is_ready(); }
  template <class P>
  void await_suspend(std::coroutine_handle<P> handle) {
    waiter_state_ = handle.promise().state();
    handle_ = handle;
    waiter_state_->executing_ = false;
    future_.state_->add_waiter(this);
  }
  void fire() override { schedule_resume(waiter_state_, handle_); }
  auto await_resume() {
    if (waiter_state_ != nullptr) waiter_state_->executing_ = true;
    if constexpr (kTakesValue) return future_.take_or_copy();
  }

 private:
  Future<T> future_;
  StateBase* waiter_state_ = nullptr;
  std::coroutine_handle<> handle_;
};

}  // namespace detail

// A value or error that may not be known yet. Cheap to copy (shares one state).
template <class T>
class Future {
 public:
  using promise_type = detail::CoroutinePromise<T>;

  Future() = default;
  Future(T value) : state_(new detail::SharedState<T>()) {  // NOLINT: implicit by design
    state_->add_future_ref();
    state_->send(std::move(value));
  }
  Future(Error error) : state_(new detail::SharedState<T>()) {  // NOLINT: implicit by design
    state_->add_future_ref();
    state_->send_error(error);
  }
  explicit Future(detail::SharedState<T>* state) : state_(state) { state_->add_future_ref(); }
  Future(const Future& other) : state_(other.state_) {
    if (state_) state_->add_future_ref();
  }
  Future(Future&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}
  Future& operator=(const Future& other) {
    Future copy(other);
    std::swap(state_, copy.state_);
    return *this;
  }
  Future& operator=(Future&& other) noexcept {
    Future moved(std::move(other));
    std::swap(state_, moved.state_);
    return *this;
  }
  ~Future() {
    if (state_) state_->del_future_ref();
  }

  bool is_valid() const { return state_ != nullptr; }
  bool is_ready() const { return state_->is_ready(); }
  bool is_error() const { return state_->is_error(); }
  const Error& error() const { return state_->error(); }
  // The value; throws the Error if the future failed. Must be ready.
  const T& get() const {
    KEEL_ASSERT(is_ready());
    if (state_->is_error()) throw state_->error();
    return state_->value();
  }

  detail::FutureAwaiter<T> operator co_await() const& { return detail::FutureAwaiter<T>(*this); }
  detail::FutureAwaiter<T> operator co_await() && {
    return detail::FutureAwaiter<T>(std::move(*this));
  }

  // The state, for combinators that wait without a coroutine.
  detail::SharedState<T>* state() const { return state_; }

 private:
  template <class, bool>
  friend class detail::FutureAwaiter;
  // Moves the value out when this is the only Future left and no Promise could make another
  // (nobody else can read it).
  T take_or_copy() {
    if (state_->is_error()) throw state_->error();
    if constexpr (std::is_copy_constructible_v<T>) {
      if (state_->future_refs() == 1 && state_->promise_refs() == 0) return std::move(state_->mutable_value());
      return state_->value();
    } else {
      KEEL_ASSERT(state_->future_refs() == 1);  // a move-only value has one reader
      return std::move(state_->mutable_value());
    }
  }

  detail::SharedState<T>* state_ = nullptr;
};

// The writing side of a Future. Copies share the state; dropping all unset → broken_promise.
template <class T>
class Promise {
 public:
  Promise() : state_(new detail::SharedState<T>()) { state_->add_promise_ref(); }
  Promise(const Promise& other) : state_(other.state_) {
    if (state_) state_->add_promise_ref();
  }
  Promise(Promise&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}
  Promise& operator=(const Promise& other) {
    Promise copy(other);
    std::swap(state_, copy.state_);
    return *this;
  }
  Promise& operator=(Promise&& other) noexcept {
    Promise moved(std::move(other));
    std::swap(state_, moved.state_);
    return *this;
  }
  ~Promise() {
    if (state_) state_->del_promise_ref();
  }

  Future<T> get_future() const { return Future<T>(state_); }
  void send(T value) const { state_->send(std::move(value)); }
  void send_error(Error error) const { state_->send_error(error); }
  bool is_set() const { return state_->is_ready(); }
  // True while some Future of this promise is alive (someone could still read a value).
  bool has_futures() const { return state_->future_refs() > 0; }

 private:
  detail::SharedState<T>* state_;
};

namespace detail {

// Marks a coroutine as executing from its first statement on (it starts eagerly).
struct StartAwaiter {
  StateBase* state;
  bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) const noexcept {}
  void await_resume() const noexcept { state->executing_ = true; }
};

template <class T>
class CoroutinePromise {
 public:
  CoroutinePromise() : state_(new SharedState<T>()) {
    state_->add_promise_ref();
    state_->process_id_ = current_process_id();
  }
  CoroutinePromise(const CoroutinePromise&) = delete;
  CoroutinePromise& operator=(const CoroutinePromise&) = delete;
  ~CoroutinePromise() {
    state_->coroutine_ = nullptr;
    state_->executing_ = false;
    state_->del_promise_ref();
  }

  Future<T> get_return_object() {
    state_->coroutine_ = std::coroutine_handle<CoroutinePromise>::from_promise(*this);
    return Future<T>(state_);
  }
  StartAwaiter initial_suspend() noexcept { return StartAwaiter{state_}; }
  std::suspend_never final_suspend() noexcept { return {}; }
  void return_value(T value) { state_->send(std::move(value)); }
  void unhandled_exception() {
    try {
      throw;
    } catch (const Error& error) {
      state_->send_error(error);
    } catch (const std::exception& exception) {
      report_unexpected_exception(exception.what());
      state_->send_error(Error(errc::internal_error));
    } catch (...) {
      report_unexpected_exception("non-standard exception");
      state_->send_error(Error(errc::unknown_error));
    }
  }
  StateBase* state() const { return state_; }

 private:
  SharedState<T>* state_;
};

}  // namespace detail

template <class T>
Future<T> make_ready(T value) {
  return Future<T>(std::move(value));
}

}  // namespace keel
