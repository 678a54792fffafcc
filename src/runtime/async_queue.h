// AsyncQueue<T>: a FIFO queue whose owner keeps the items in view, with one actor that waits
// until it has items (for example an engine's committer, which takes queued commits in groups of
// its own choosing while reads look at the queued writes).
//
// Unlike PromiseStream (stream.h), whose values only its consumer sees, one at a time, the items
// here stay in place until someone removes them: anyone may look at, iterate, take from the front
// or clear the queue.
//
// - push() never blocks; it wakes the waiting actor if there is one. Waiters never run inline:
//   the woken actor is scheduled, so push() never re-enters its caller.
// - when_not_empty() is ready at once while the queue has items, otherwise when the next item is
//   pushed. One waiter at a time; a waiter cancelled while waiting loses nothing (its item stays
//   queued).
// - Lifetime: destroy the waiting actor before the queue (a waiter outliving it gets
//   broken_promise).
#pragma once

#include <deque>
#include <optional>

#include "runtime/assert.h"
#include "runtime/future.h"

namespace keel {

template <class T>
class AsyncQueue {
 public:
  using iterator = typename std::deque<T>::iterator;
  using const_iterator = typename std::deque<T>::const_iterator;

  AsyncQueue() = default;
  AsyncQueue(const AsyncQueue&) = delete;
  AsyncQueue& operator=(const AsyncQueue&) = delete;

  void push(T item) {
    items_.push_back(std::move(item));
    if (!waiter_) return;
    Promise<Void> waiter = std::move(*waiter_);
    waiter_.reset();
    waiter.send(Void{});
  }

  Future<Void> when_not_empty() {
    if (!items_.empty()) return Void{};
    KEEL_ASSERT(!waiter_ || !waiter_->has_futures());  // one waiter at a time
    waiter_.emplace();
    return waiter_->get_future();
  }

  bool empty() const { return items_.empty(); }
  size_t size() const { return items_.size(); }
  T& front() { return items_.front(); }
  const T& front() const { return items_.front(); }
  void pop_front() { items_.pop_front(); }
  void clear() { items_.clear(); }
  iterator begin() { return items_.begin(); }
  iterator end() { return items_.end(); }
  const_iterator begin() const { return items_.begin(); }
  const_iterator end() const { return items_.end(); }

 private:
  std::deque<T> items_;
  std::optional<Promise<Void>> waiter_;  // set while an actor waits for an item
};

}  // namespace keel
