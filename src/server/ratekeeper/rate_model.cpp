#include "server/ratekeeper/rate_model.h"

#include <algorithm>

#include <fmt/format.h>

namespace keel {

void RateModel::Smoothed::add(double sample, double weight) {
  value = started ? value + (sample - value) * weight : sample;
  started = true;
}

void RateModel::add_poll(double now, const std::vector<StorageQueueSample>& samples) {
  const double elapsed = last_poll_ < 0 ? 0 : now - last_poll_;
  last_poll_ = now;
  const double weight = std::min(1.0, elapsed / std::max(settings_.smoothing_seconds, 1e-6));
  if (elapsed > 0) released_rate_.add(static_cast<double>(released_) / elapsed, weight);
  released_ = 0;

  status_ = RateStatus{};
  status_.known = true;
  status_.released_per_second = released_rate_.value;
  double limit = -1;
  for (const StorageQueueSample& sample : samples) {
    auto found = servers_.find(sample.tag);
    if (!sample.reachable) {
      // A server that missed a poll or two (a slow link) still counts as last heard; one silent
      // for longer is left out, its counters start over when it comes back.
      if (found == servers_.end()) continue;
      if (now - found->second.heard > settings_.silence_seconds) {
        servers_.erase(found);
        continue;
      }
    } else if (found == servers_.end()) {
      found = servers_.try_emplace(sample.tag).first;
      found->second = ServerRates{sample.window_bytes, sample.durable_bytes, now, {}, {}};
    }
    ServerRates& rates = found->second;
    if (sample.reachable && elapsed > 0 && sample.durable_bytes >= rates.durable_bytes) {
      const double durable = static_cast<double>(sample.durable_bytes - rates.durable_bytes);
      const double input = durable + static_cast<double>(sample.window_bytes - rates.window_bytes);
      rates.durable.add(durable / elapsed, weight);
      rates.input.add(std::max(0.0, input) / elapsed, weight);
    }
    if (sample.reachable) {
      rates.window_bytes = sample.window_bytes;
      rates.durable_bytes = sample.durable_bytes;
      rates.heard = now;
      rates.span_seconds = sample.window_seconds;
      rates.pull_lag_seconds = sample.pull_lag_seconds;
    }
    // Add what it has yet to pull, and if not heard from in this poll, assume its window went on
    // growing as fast as it did.
    const double behind_seconds = rates.pull_lag_seconds + std::max(0.0, now - rates.heard);
    const auto window_bytes = rates.window_bytes + static_cast<int64_t>(rates.input.value * behind_seconds);
    status_.worst_window_bytes = std::max(status_.worst_window_bytes, window_bytes);

    // Below target - spring this server needs no limit. Above, it may take in what its engine
    // makes durable (no more than comes in: a recovery's version jump empties a window into the
    // engine at once) plus what brings its window to the target within one window length.
    const double window = static_cast<double>(window_bytes);
    if (window < settings_.window_target_bytes - settings_.window_spring_bytes) continue;
    const double span = std::max(rates.span_seconds, settings_.window_seconds);
    const double wanted = std::min(std::min(rates.durable.value, rates.input.value) +
                                       (settings_.window_target_bytes - window) / settings_.window_seconds,
                                   settings_.window_target_bytes / span);
    double server_limit = 0;
    if (wanted > 0) server_limit = released_rate_.value * wanted / std::max(rates.input.value, 1.0);
    server_limit = std::max(server_limit, settings_.transactions_per_second_min);
    if (limit < 0 || server_limit < limit) {
      limit = server_limit;
      status_.limited_by = fmt::format("storage server {}: MVCC window {:.1f} MiB (target {:.1f} MiB)", sample.tag,
                                       window / (1024 * 1024), settings_.window_target_bytes / (1024 * 1024));
    }
  }
  status_.transactions_per_second_limit = limit;
}

}  // namespace keel
