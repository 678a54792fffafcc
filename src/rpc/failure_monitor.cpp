#include "rpc/failure_monitor.h"

namespace keel {
namespace {

// Drops waiters nobody waits on any more, now and then, so they cannot pile up.
void prune(std::vector<Promise<Void>>& waiters) {
  const size_t size = waiters.size();
  if (size >= 16 && (size & (size - 1)) == 0) {
    std::erase_if(waiters, [](const Promise<Void>& waiter) { return !waiter.has_futures(); });
  }
}

}  // namespace

bool FailureMonitor::is_failed(NetworkAddress address) const {
  auto it = states_.find(address);
  return it != states_.end() && it->second.failed;
}

Future<Void> FailureMonitor::on_failed(NetworkAddress address) {
  State& state = states_[address];
  if (state.failed) return Void{};
  prune(state.waiters);
  state.waiters.emplace_back();
  return state.waiters.back().get_future();
}

Future<Void> FailureMonitor::on_state_changed(NetworkAddress address) {
  State& state = states_[address];
  prune(state.waiters);
  state.waiters.emplace_back();
  return state.waiters.back().get_future();
}

void FailureMonitor::set_failed(NetworkAddress address, bool failed) {
  State& state = states_[address];
  if (state.failed == failed) return;
  state.failed = failed;
  std::vector<Promise<Void>> waiters = std::move(state.waiters);
  state.waiters.clear();
  for (Promise<Void>& waiter : waiters) waiter.send(Void{});
}

}  // namespace keel
