#include "frontend/resp/expiry_sweeper.h"

#include "frontend/resp/resp_knobs.h"
#include "frontend/resp/server_state.h"
#include "runtime/scheduler.h"
#include "runtime/trace.h"

namespace keel {

Future<bool> sweep_expired_once(std::shared_ptr<RespServerState> server, int keys_max) {
  int64_t removed = 0;
  bool more = false;
  const KeyLayout& layout = server->layout;
  auto body = [&](Transaction& transaction) -> Future<Void> {
    removed = 0;
    const int64_t now_ms = wall_time_ms();
    KeyStore store(transaction, layout, now_ms);
    RangeResult due = co_await transaction.get_range(layout.expiry_range_below(now_ms + 1), keys_max);
    more = due.more;
    std::vector<std::pair<std::string, Future<KeyRecord>>> loads;
    for (const KeyValue& entry : due.rows) {
      auto [deadline, key] = layout.decode_expiry_key(entry.key);
      loads.emplace_back(key, store.load_any(key));
    }
    for (size_t i = 0; i < loads.size(); ++i) {
      KeyRecord record = co_await std::move(loads[i].second);
      if (record.present && record.expired) {
        store.remove(loads[i].first, record, false);
        ++removed;
      } else {
        transaction.clear(due.rows[i].key);  // an index entry left behind
      }
    }
    co_return Void{};
  };
  co_await server->database.run(body);
  server->stats.expired_keys += static_cast<uint64_t>(removed);
  co_return more;
}

Future<Key> sweep_watch_markers_once(std::shared_ptr<RespServerState> server, Key from, int keys_max) {
  Key next;
  const KeyLayout& layout = server->layout;
  auto body = [&](Transaction& transaction) -> Future<Void> {
    const int64_t horizon_ms = wall_time_ms() - static_cast<int64_t>(resp_knobs().resp_watch_marker_seconds * 1000);
    const KeyRange markers = layout.watch_marker_range();
    const KeyRange rest{from.empty() ? markers.begin : from, markers.end};
    RangeResult page = co_await transaction.get_range(rest, keys_max);
    for (const KeyValue& row : page.rows) {
      if (watch_marker_written_ms(row.value) < horizon_ms) transaction.clear(row.key);
    }
    next = page.more && !page.rows.empty() ? key_after(page.rows.back().key) : Key();
    co_return Void{};
  };
  co_await server->database.run(body);
  co_return next;
}

Future<Void> run_expiry_sweeper(std::shared_ptr<RespServerState> server) {
  Key markers_from;  // where the next round over the WATCH markers starts (empty: the first)
  while (true) {
    bool more = false;
    const int keys_max = static_cast<int>(resp_knobs().resp_sweep_keys_max);
    try {
      more = co_await sweep_expired_once(server, keys_max);
      if (!more) markers_from = co_await sweep_watch_markers_once(server, markers_from, keys_max);
    } catch (const Error& error) {
      TraceEvent(Severity::warn, "RespSweepFailed").error(error).suppress_for(10.0);
    }
    if (!more) co_await delay(resp_knobs().resp_sweep_interval_seconds);
  }
}

}  // namespace keel
