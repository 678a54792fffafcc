// AsyncVar<T>: a value that actors watch for changes (e.g. the current ServerDBInfo).
//   get() reads it; set(v) replaces it and wakes every on_change() waiter, even when v equals
//   the old value (callers compare if they care).
#pragma once

#include "runtime/future.h"

namespace keel {

template <class T>
class AsyncVar {
 public:
  explicit AsyncVar(T initial = T{}) : value_(std::move(initial)) {}
  AsyncVar(const AsyncVar&) = delete;
  AsyncVar& operator=(const AsyncVar&) = delete;

  const T& get() const { return value_; }
  // Ready at the next set(). Waiters share one state, so abandoned waits cost nothing.
  Future<Void> on_change() const { return next_.get_future(); }
  void set(T value) {
    value_ = std::move(value);
    Promise<Void> changed = std::move(next_);
    next_ = Promise<Void>();
    changed.send(Void{});
  }

 private:
  T value_;
  Promise<Void> next_;
};

}  // namespace keel
