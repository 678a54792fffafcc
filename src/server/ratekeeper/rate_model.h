// The ratekeeper's arithmetic (pure; private to src/server/ratekeeper): from periodic polls of
// the storage servers' queues and the transactions the proxies released, the rate at which the
// cluster may start transactions.
//
// A storage server's queue is its in-memory MVCC window: every version it pulled that is not in
// its engine yet (at least the last 5 s; more when the engine falls behind). Below
// target - spring bytes it sets no limit. Above, the server may take in
//     wanted = min(durable, input) + (target - window) / window_seconds   (bytes per second)
// (what its engine makes durable, plus what brings the window to the target within one window
// length), but no more than target / (the time its window spans, at least window_seconds): the
// input that, kept up, fills the window to the target. The limit is the released rate x wanted / input, all rates smoothed; never below
// the minimum. The worst server sets the limit. A server that does not answer counts with its
// last answer, its window grown at its input rate since, for silence_seconds; then it is left
// out: a dead server must not stop the cluster.
//
// A server also reports its process's memory (resident anonymous bytes) and budget. Everything
// that holds the last seconds of writes (MVCC window, logs, conflict sets, engine batches)
// grows with the rate, and goes on growing for a window length after the rate rises: above
// memory_target - memory_spring of the budget the limit is the released rate times the lesser
// of (target - used) / spring (held at the spring's start, the minimum at the target) and
// (target - used) / (growth per second x window_seconds) (what keeps the growth of the next
// window within what is left).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "protocol/ratekeeper_interface.h"
#include "protocol/tlog_interface.h"

namespace keel {

struct StorageQueueSample {
  Tag tag = 0;
  bool reachable = false;
  int64_t window_bytes = 0;
  int64_t durable_bytes = 0;  // handed to the engine since the server started (a counter)
  double window_seconds = 0;  // how much time its window spans (latest - durable version)
  double pull_lag_seconds = 0;  // how far its latest version is behind the committed version
  int64_t memory_used_bytes = 0;    // its process's; 0: unknown
  int64_t memory_budget_bytes = 0;  // 0: no budget
};

struct RateModelSettings {
  double window_target_bytes = 0;
  double window_spring_bytes = 0;
  double transactions_per_second_min = 0;
  double smoothing_seconds = 1;
  double window_seconds = 5;  // versions a window holds while its engine keeps up (the MVCC window)
  double silence_seconds = 5;  // a server unreachable for longer is left out
  double memory_target_fraction = 0.7;  // of a process's memory budget
  double memory_spring_fraction = 0.1;
};

class RateModel {
 public:
  explicit RateModel(RateModelSettings settings) : settings_(settings) {}

  // Transactions the proxies started since the last poll.
  void add_released(int64_t transactions) { released_ += transactions; }
  // One poll of the storage servers at `now`; recomputes the limit.
  void add_poll(double now, const std::vector<StorageQueueSample>& samples);
  const RateStatus& status() const { return status_; }

 private:
  struct Smoothed {
    double value = 0;
    bool started = false;
    void add(double sample, double weight);
  };
  struct ServerRates {
    int64_t window_bytes = 0;
    int64_t durable_bytes = 0;
    double heard = 0;  // when it last answered
    double span_seconds = 0;
    double pull_lag_seconds = 0;
    int64_t memory_used_bytes = 0;
    int64_t memory_budget_bytes = 0;
    Smoothed memory_growth;  // bytes per second, negative when shrinking
    Smoothed input;    // bytes per second entering the window
    Smoothed durable;  // bytes per second the engine takes
  };

  // The limits `server` sets, by its window and by its process's memory, lowering `limit`.
  void limit_by_window(Tag tag, const ServerRates& server, int64_t window_bytes, double* limit);
  void limit_by_memory(Tag tag, const ServerRates& server, double* limit);
  void lower(double* limit, double candidate, std::string reason);

  RateModelSettings settings_;
  double last_poll_ = -1;
  int64_t released_ = 0;
  Smoothed released_rate_;
  std::map<Tag, ServerRates> servers_;
  RateStatus status_;
};

}  // namespace keel
