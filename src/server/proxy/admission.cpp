#include "server/proxy/admission.h"

#include <algorithm>

namespace keel {

void Admission::pay_until(double now) {
  if (now <= paid_at_) return;
  if (rate_ < 0) {
    paid_ = admitted_;
  } else {
    // Credit earned at a higher rate stays; idle time adds at most one burst.
    paid_ = std::max(paid_, std::min(paid_ + rate_ * (now - paid_at_), admitted_ + rate_ * burst_seconds_));
  }
  paid_at_ = now;
}

void Admission::set_rate(double transactions_per_second, double now) {
  pay_until(now);
  // A limit that comes back (no limit owes nothing) starts with a full burst.
  if (rate_ < 0 && transactions_per_second >= 0) paid_ = admitted_ + transactions_per_second * burst_seconds_;
  rate_ = transactions_per_second;
}

double Admission::admit(int64_t transactions, double now) {
  pay_until(now);
  admitted_ += static_cast<double>(transactions);
  if (rate_ < 0) paid_ = admitted_;
  return admitted_;
}

double Admission::wait_seconds(double place, double now) {
  pay_until(now);
  if (rate_ < 0 || place <= paid_) return 0;
  // Under a microsecond is no wait: a clock at hundreds of seconds may not move by that much,
  // and a waiter would look again at the same time forever.
  const double wait = (place - paid_) / std::max(rate_, 1e-3);
  return wait < 1e-6 ? 0 : wait;
}

}  // namespace keel
