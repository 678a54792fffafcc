// Combinators over futures: when_all, race / when_any, timeouts, and ActorCollection.
//
// race() and when_any() hold their inputs until one is ready, then drop the others (which
// cancels them if they were coroutines nobody else waits on). Dropping the result of a race
// drops its inputs too.
#pragma once

#include <memory>
#include <tuple>
#include <variant>
#include <vector>

#include "runtime/scheduler.h"

namespace keel {

// All values in input order; fails with the first error met in that order.
template <class T>
Future<std::vector<T>> when_all(std::vector<Future<T>> futures) {
  std::vector<T> values;
  values.reserve(futures.size());
  for (Future<T>& future : futures) values.push_back(co_await future);
  co_return values;
}

namespace detail {

// The shared state of a race: completes with the index and value of the first ready input.
template <class R, class... Ts>
class RaceState final : public SharedState<R> {
 public:
  explicit RaceState(Future<Ts>... inputs) : inputs_(std::move(inputs)...) {}

  void start() {
    this->add_ref();  // held while callbacks are linked
    arm(std::index_sequence_for<Ts...>{});
  }

 private:
  template <size_t I>
  struct Arm final : Callback {
    RaceState* race = nullptr;
    void fire() override { race->template finish<I>(); }
  };

  template <size_t... Is>
  void arm(std::index_sequence<Is...>) {
    (arm_one<Is>(), ...);
  }
  template <size_t I>
  void arm_one() {
    if (this->is_ready()) return;
    auto& input = std::get<I>(inputs_);
    if (input.is_ready()) {
      finish<I>();
      return;
    }
    std::get<I>(arms_).race = this;
    input.state()->add_waiter(&std::get<I>(arms_));
  }
  template <size_t I>
  void finish() {
    if (this->is_ready()) return;
    this->add_ref();  // releasing the inputs may drop the last Future of this race
    auto& input = std::get<I>(inputs_);
    std::optional<Error> error;
    std::optional<R> result;
    if (input.is_error()) {
      error = input.error();
    } else {
      result.emplace(std::in_place_index<I>, input.get());
    }
    release_inputs();
    if (error) {
      this->send_error(*error);
    } else {
      this->send(std::move(*result));
    }
    this->del_ref();
  }
  void release_inputs() {
    if (released_) return;
    released_ = true;
    std::apply([](auto&... arm) { (arm.unlink(), ...); }, arms_);
    {
      // Dropping the inputs may cancel coroutines; this state stays alive meanwhile.
      auto inputs = std::move(inputs_);
      inputs_ = {};
    }
    this->del_ref();
  }
  void cancel() override { release_inputs(); }

  template <class Sequence>
  struct ArmTuple;
  template <size_t... Is>
  struct ArmTuple<std::index_sequence<Is...>> {
    using type = std::tuple<Arm<Is>...>;
  };

  std::tuple<Future<Ts>...> inputs_;
  typename ArmTuple<std::index_sequence_for<Ts...>>::type arms_;
  bool released_ = false;
};

}  // namespace detail

// The first of several futures to be ready: a variant whose index tells which. Errors race too.
template <class... Ts>
Future<std::variant<Ts...>> race(Future<Ts>... inputs) {
  auto* state = new detail::RaceState<std::variant<Ts...>, Ts...>(std::move(inputs)...);
  Future<std::variant<Ts...>> result(state);
  state->start();
  return result;
}

// Index of the first ready future among `futures` (errors propagate).
Future<size_t> when_any(std::vector<Future<Void>> futures);

// The value of `future`, or timed_out if it is not ready within `seconds`.
template <class T>
Future<T> timeout_error(Future<T> future, double seconds) {
  auto winner = co_await race(std::move(future), delay(seconds));
  if (winner.index() == 1) throw Error(errc::timed_out);
  co_return std::get<0>(std::move(winner));
}

// The value of `future`, or nullopt if it is not ready within `seconds`.
template <class T>
Future<std::optional<T>> timeout(Future<T> future, double seconds) {
  auto winner = co_await race(std::move(future), delay(seconds));
  if (winner.index() == 1) co_return std::nullopt;
  co_return std::optional<T>(std::get<0>(std::move(winner)));
}

namespace detail {
template <class T>
Future<Void> when_ready(Future<T> future) {
  co_await FutureAwaiter<T, false>(std::move(future));
  co_return Void{};
}
}  // namespace detail

// Ready (with Void) when `future` is ready, whether with a value or an error. The value is
// neither taken nor copied: the caller reads it from its own copy of `future`.
template <class T>
Future<Void> ready(Future<T> future) {
  if (future.is_ready()) return Future<Void>(Void{});
  return detail::when_ready(std::move(future));
}

// Never ready (until dropped).
Future<Void> never();

// Background actors owned together: dropping the collection cancels them all. `result()`
// fails with the first error of any member (cancellation is not an error); finished members
// are released as they finish, so a long-lived collection does not grow.
class ActorCollection {
 public:
  ActorCollection();
  ~ActorCollection();
  ActorCollection(const ActorCollection&) = delete;
  ActorCollection& operator=(const ActorCollection&) = delete;

  void add(Future<Void> actor);
  Future<Void> result() const { return failure_.get_future(); }
  size_t size() const { return size_; }
  void clear();

 private:
  struct Member;
  void finished(Member* member);

  detail::ListNode members_;
  Promise<Void> failure_;
  size_t size_ = 0;
};

}  // namespace keel
