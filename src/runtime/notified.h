// NotifiedValue<T>: an increasing value that actors can wait on.
//   when_at_least(v) is ready once the value is >= v. set() never lowers the value; lower_to()
//   does (a rollback), and waiters for values above the lowered one keep waiting.
#pragma once

#include <map>
#include <vector>

#include "runtime/future.h"

namespace keel {

template <class T>
class NotifiedValue {
 public:
  explicit NotifiedValue(T initial = T{}) : value_(initial) {}
  NotifiedValue(const NotifiedValue&) = delete;
  NotifiedValue& operator=(const NotifiedValue&) = delete;

  const T& get() const { return value_; }
  Future<Void> when_at_least(T target) {
    if (value_ >= target) return Void{};
    return waiters_[target].emplace_back().get_future();
  }
  void set(T value) {
    if (value <= value_) return;
    value_ = value;
    while (!waiters_.empty() && waiters_.begin()->first <= value_) {
      std::vector<Promise<Void>> ready = std::move(waiters_.begin()->second);
      waiters_.erase(waiters_.begin());
      for (Promise<Void>& waiter : ready) waiter.send(Void{});
    }
  }
  void lower_to(T value) {
    if (value < value_) value_ = value;
  }

 private:
  T value_;
  std::map<T, std::vector<Promise<Void>>> waiters_;
};

}  // namespace keel
