// The proxy's admission of new transactions at the ratekeeper's rate (pure; private to
// src/server/proxy): a token bucket kept as two running counts, the transactions admitted and
// those paid for (at the rate, since the last look). Admitted transactions start once paid for;
// a proxy idle for a while may start up to `burst_seconds` of its rate at once. A new rate
// applies to the transactions still waiting as well: a rate that dropped near zero for one
// update and came back must not leave a batch waiting what the low rate would have taken.
// Without a rate (negative) everything is admitted at once.
#pragma once

#include <cstdint>

namespace keel {

class Admission {
 public:
  explicit Admission(double burst_seconds) : burst_seconds_(burst_seconds) {}

  // Transactions per second this proxy may start from `now` on; negative: no limit.
  void set_rate(double transactions_per_second, double now);
  double rate() const { return rate_; }

  // Admits `transactions` at `now`; returns their place in line, for wait_seconds().
  double admit(int64_t transactions, double now);
  // How long the transactions admitted at `place` still wait at `now`, at the current rate (0:
  // they may start).
  double wait_seconds(double place, double now);
  // How long a transaction admitted at `now` would wait for those admitted before it (0 with
  // no rate); admits nothing.
  double queued_seconds(double now) { return wait_seconds(admitted_, now); }

 private:
  // Pays, at the current rate, for the time since the last look (never beyond one burst ahead).
  void pay_until(double now);

  double burst_seconds_;
  double rate_ = -1;
  double admitted_ = 0;  // transactions admitted so far
  double paid_ = 0;      // transactions paid for so far (up to a burst more than admitted_)
  double paid_at_ = 0;
};

}  // namespace keel
