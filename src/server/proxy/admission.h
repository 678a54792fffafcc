// The proxy's admission of new transactions at the ratekeeper's rate (pure; private to
// src/server/proxy): a token bucket kept as the time at which everything admitted so far has
// been paid for. Each transaction costs 1 / rate seconds; a proxy idle for a while may start up
// to `burst_seconds` of its rate at once. Without a rate (negative) everything is admitted at
// once.
#pragma once

#include <cstdint>

namespace keel {

class Admission {
 public:
  explicit Admission(double burst_seconds) : burst_seconds_(burst_seconds) {}

  // Transactions per second this proxy may start; negative: no limit.
  void set_rate(double transactions_per_second) { rate_ = transactions_per_second; }
  double rate() const { return rate_; }

  // Admits `transactions` at `now`: returns how long they must wait before they start (0: at
  // once).
  double admit(int64_t transactions, double now);
  // How long a transaction admitted at `now` would wait for those admitted before it (0 with
  // no rate); admits nothing.
  double queued_seconds(double now) const;

 private:
  double burst_seconds_;
  double rate_ = -1;
  double paid_until_ = 0;
};

}  // namespace keel
