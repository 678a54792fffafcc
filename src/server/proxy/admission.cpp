#include "server/proxy/admission.h"

#include <algorithm>

namespace keel {

double Admission::admit(int64_t transactions, double now) {
  if (rate_ < 0) {
    paid_until_ = now - burst_seconds_;  // a limit that comes back starts with a full burst
    return 0;
  }
  const double rate = std::max(rate_, 1e-3);
  paid_until_ = std::max(paid_until_, now - burst_seconds_) + static_cast<double>(transactions) / rate;
  return std::max(0.0, paid_until_ - now);
}

double Admission::queued_seconds(double now) const {
  if (rate_ < 0) return 0;
  return std::max(0.0, paid_until_ - now);
}

}  // namespace keel
