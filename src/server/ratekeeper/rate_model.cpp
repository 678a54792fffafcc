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
      if (sample.memory_used_bytes > 0 && rates.memory_used_bytes > 0) {
        rates.memory_growth.add(static_cast<double>(sample.memory_used_bytes - rates.memory_used_bytes) / elapsed,
                                weight);
      }
    }
    if (sample.reachable) {
      rates.window_bytes = sample.window_bytes;
      rates.durable_bytes = sample.durable_bytes;
      rates.heard = now;
      rates.span_seconds = sample.window_seconds;
      rates.pull_lag_seconds = sample.pull_lag_seconds;
      rates.memory_used_bytes = sample.memory_used_bytes;
      rates.memory_budget_bytes = sample.memory_budget_bytes;
    }
    // Add what it has yet to pull, and if not heard from in this poll, assume its window went on
    // growing as fast as it did.
    const double behind_seconds = rates.pull_lag_seconds + std::max(0.0, now - rates.heard);
    const auto window_bytes = rates.window_bytes + static_cast<int64_t>(rates.input.value * behind_seconds);
    status_.worst_window_bytes = std::max(status_.worst_window_bytes, window_bytes);

    limit_by_window(sample.tag, rates, window_bytes, &limit);
    limit_by_memory(sample.tag, rates, &limit);
  }
  status_.transactions_per_second_limit = limit;
}

// Below target - spring this server needs no limit. Above, it may take in what its engine makes
// durable (no more than comes in: a recovery's version jump empties a window into the engine at
// once) plus what brings its window to the target within one window length.
void RateModel::limit_by_window(Tag tag, const ServerRates& server, int64_t window_bytes, double* limit) {
  const double window = static_cast<double>(window_bytes);
  if (window < settings_.window_target_bytes - settings_.window_spring_bytes) return;
  const double span = std::max(server.span_seconds, settings_.window_seconds);
  const double wanted = std::min(std::min(server.durable.value, server.input.value) +
                                     (settings_.window_target_bytes - window) / settings_.window_seconds,
                                 settings_.window_target_bytes / span);
  double candidate = 0;
  if (wanted > 0) candidate = released_rate_.value * wanted / std::max(server.input.value, 1.0);
  lower(limit, candidate,
        fmt::format("storage server {}: MVCC window {:.1f} MiB (target {:.1f} MiB)", tag, window / (1024 * 1024),
                    settings_.window_target_bytes / (1024 * 1024)));
}

void RateModel::limit_by_memory(Tag tag, const ServerRates& server, double* limit) {
  if (server.memory_budget_bytes <= 0 || server.memory_used_bytes <= 0) return;
  const auto budget = static_cast<double>(server.memory_budget_bytes);
  const auto used = static_cast<double>(server.memory_used_bytes);
  const double target = budget * settings_.memory_target_fraction;
  const double spring = std::max(budget * settings_.memory_spring_fraction, 1.0);
  const double growth = server.memory_growth.value;
  // Growing so fast that another window length of it would pass the target: slowed so it fits.
  const bool growing_too_fast = growth * settings_.window_seconds > target - used;
  if (used < target - spring && !growing_too_fast) return;
  double factor = std::clamp((target - used) / spring, 0.0, 1.0);
  if (growing_too_fast) factor = std::min(factor, std::max(0.0, target - used) / (growth * settings_.window_seconds));
  lower(limit, released_rate_.value * factor,
        fmt::format("storage server {}: process memory {:.0f} MiB, {:+.0f} MiB/s (target {:.0f} MiB of a {:.0f} MiB "
                    "budget)",
                    tag, used / (1024 * 1024), growth / (1024 * 1024), target / (1024 * 1024), budget / (1024 * 1024)));
}

// The worst server sets the limit; never below the minimum.
void RateModel::lower(double* limit, double candidate, std::string reason) {
  candidate = std::max(candidate, settings_.transactions_per_second_min);
  if (*limit >= 0 && candidate >= *limit) return;
  *limit = candidate;
  status_.limited_by = std::move(reason);
}

}  // namespace keel
