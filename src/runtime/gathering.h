// Gathering: how long a batching server waits for the clients it just answered.
//
// Closed-loop clients send their next request as soon as the last one is answered, so a batch
// of answers comes back as a burst of requests, one at a time. A batcher that starts the next
// batch at the first of them gives that one a batch alone, and the rest wait for it to finish
// (measured: under 50 redis-benchmark clients, 190 of the 283 commits the log wrote in 2 s
// held one SET; the Redis front end's command groups, frontend/resp/command_groups.h). Told
// what it answered and what each batch took, Gathering says when to wait for more: while fewer
// requests are at hand than were answered, for at most a fraction of the recent batches'
// duration (and never 2 ms), so a wait costs a part of what it saves, and only while they keep
// coming: a pause of a quarter of that ends the wait, so clients that think between requests
// (whose answers do not come back as a burst) cost a batch at most that pause. A lone client
// (one answered) never waits. A wait that ends short of the count forgets the rest, so a
// client that went away is awaited once, not every batch.
//
// Plain bookkeeping (the caller owns the timer); not thread-safe.
#pragma once

#include <algorithm>
#include <cstddef>

namespace keel {

class Gathering {
 public:
  // fraction <= 0: never wait.
  explicit Gathering(double fraction) : fraction_(fraction) {}

  // A batch of `requests` was answered `seconds` after it started.
  void answered(size_t requests, double seconds) {
    returning_ += requests;
    smoothed_seconds_ = sampled_ ? smoothed_seconds_ + smoothing * (seconds - smoothed_seconds_) : seconds;
    sampled_ = true;
  }

  // A batch started with `requests` of them.
  void took(size_t requests) { returning_ -= std::min(returning_, requests); }

  // Whether a batch that has `at_hand` requests should wait for more.
  bool should_wait(size_t at_hand) const { return fraction_ > 0 && at_hand < returning_; }

  // The longest such a wait.
  double wait_seconds() const { return std::min(fraction_ * smoothed_seconds_, max_wait_seconds); }

  // The longest pause between arrivals such a wait sits through.
  double pause_seconds() const { return wait_seconds() / 4; }

  // A wait ended short of the count: the requests still expected are not coming soon, or at all.
  void gave_up() { returning_ = 0; }

  size_t returning() const { return returning_; }

 private:
  static constexpr double smoothing = 0.1;  // weight of the newest batch in the average
  // Clients that answer at once come back well within this; when batches are slow (a clogged
  // network, a stalled disk), waiting a fraction of them would only add to the delay.
  static constexpr double max_wait_seconds = 0.002;

  double fraction_;
  size_t returning_ = 0;
  double smoothed_seconds_ = 0;
  bool sampled_ = false;  // smoothed_seconds_ holds a batch's duration
};

}  // namespace keel
