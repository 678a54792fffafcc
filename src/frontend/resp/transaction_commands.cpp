// MULTI, EXEC, DISCARD, WATCH, UNWATCH: Redis transactions on one KeelDB transaction. See
// session.h for how WATCH keeps Redis's meaning beyond the MVCC window.
#include "frontend/resp/resp_knobs.h"
#include "frontend/resp/session.h"

namespace keel {
namespace {

struct WatchReading {
  Future<std::optional<Value>> stamp;
  Future<std::optional<Value>> marker;
  Future<KeyRecord> record;
};

WatchReading read_watch_state(KeyStore& store, const std::string& key) {
  Transaction& transaction = store.transaction();
  return WatchReading{transaction.get(store.layout().stamp_key(key)),
                      transaction.get(store.layout().watch_marker_key(key)), store.load_any(key)};
}

// True if a watched key changed since WATCH: it appeared, disappeared (or expired), a commit
// changed it (a new stamp), or it was not alive and FLUSHALL removed it after it came to life (a
// new marker, or none: too many markers for the flush to look at). A stamp that vanished from a
// key missing then and now is no change (a FLUSHALL before the marker existed removed it).
Future<bool> any_watched_key_changed(KeyStore& store, const std::vector<WatchedKey>& watched) {
  std::vector<WatchReading> readings;
  for (const WatchedKey& entry : watched) readings.push_back(read_watch_state(store, entry.key));
  bool changed = false;
  for (size_t i = 0; i < watched.size(); ++i) {
    std::optional<Value> stamp_key_value = co_await std::move(readings[i].stamp);
    std::optional<Value> marker = co_await std::move(readings[i].marker);
    KeyRecord record = co_await std::move(readings[i].record);
    const std::optional<std::string> stamp = modification_stamp(record, std::move(stamp_key_value));
    if (record.alive() != watched[i].alive) changed = true;
    if (stamp && stamp != watched[i].stamp) changed = true;
    if (watched[i].marker && marker != watched[i].marker) changed = true;
  }
  co_return changed;
}

Future<Void> multi_command(CommandContext& c) {
  c.session.multi(c.out);
  return Void{};
}

Future<Void> exec_command(CommandContext& c) { return c.session.exec(c.out); }

Future<Void> discard_command(CommandContext& c) {
  c.session.discard(c.out);
  return Void{};
}

Future<Void> watch_command(CommandContext& c) {
  std::vector<std::string> keys(c.args.begin() + 1, c.args.end());
  return c.session.watch(std::move(keys), c.out);
}

Future<Void> unwatch_command(CommandContext& c) {
  c.session.unwatch();
  c.out.ok();
  return Void{};
}

constexpr uint32_t session_flag = command_flags::session;

}  // namespace

void Session::multi(ReplyWriter& out) {
  if (in_multi_) {
    out.error("ERR MULTI calls can not be nested");
    return;
  }
  in_multi_ = true;
  multi_failed_ = false;
  queued_.clear();
  out.ok();
}

void Session::end_multi() {
  in_multi_ = false;
  multi_failed_ = false;
  queued_.clear();
  watched_.clear();
}

void Session::abort_multi(const std::string& reason, ReplyWriter& out) {
  end_multi();
  const std::string_view prefix = "ERR ";
  const std::string_view text = std::string_view(reason).starts_with(prefix) ? std::string_view(reason).substr(prefix.size()) : reason;
  out.error("EXECABORT Transaction discarded because of: " + std::string(text));
}

void Session::discard(ReplyWriter& out) {
  if (!in_multi_) {
    out.error("ERR DISCARD without MULTI");
    return;
  }
  end_multi();
  out.ok();
}

void Session::reset() {
  end_multi();
  info_.protocol = 2;
  info_.name.clear();
}

Future<Void> Session::watch(std::vector<std::string> keys, ReplyWriter& out) {
  if (in_multi_) {
    out.error("ERR WATCH inside MULTI is not allowed");
    co_return Void{};
  }
  std::vector<WatchedKey> readings;
  auto body = [&](Transaction& transaction) -> Future<Void> {
    readings.clear();
    KeyStore store(transaction, server_.layout, wall_time_ms());
    std::vector<WatchReading> pending;
    for (const std::string& key : keys) pending.push_back(read_watch_state(store, key));
    for (size_t i = 0; i < keys.size(); ++i) {
      WatchedKey entry;
      entry.key = keys[i];
      std::optional<Value> stamp_key_value = co_await std::move(pending[i].stamp);
      std::optional<Value> marker = co_await std::move(pending[i].marker);
      const KeyRecord record = co_await std::move(pending[i].record);
      entry.stamp = modification_stamp(record, std::move(stamp_key_value));
      entry.alive = record.alive();
      if (!entry.alive) {
        // A marker near the sweeper's horizon is replaced, so that none is dropped just after a
        // WATCH took it.
        const double marker_seconds = resp_knobs().resp_watch_marker_seconds;
        if (!marker || watch_marker_written_ms(*marker) < store.now_ms() - static_cast<int64_t>(marker_seconds * 500)) {
          marker = fresh_watch_marker(store.now_ms());
          transaction.set(store.layout().watch_marker_key(keys[i]), *marker);
        }
        entry.marker = std::move(marker);
      }
      readings.push_back(std::move(entry));
    }
    co_return Void{};
  };
  try {
    co_await server_.database.run(body);
  } catch (const Error& error) {
    out.error(error_reply_text(error));
    co_return Void{};
  }
  for (WatchedKey& reading : readings) {
    bool known = false;
    for (const WatchedKey& entry : watched_) known = known || entry.key == reading.key;
    if (!known) watched_.push_back(std::move(reading));  // an earlier WATCH of the key stands
  }
  out.ok();
  co_return Void{};
}

Future<Void> Session::exec(ReplyWriter& out) {
  if (!in_multi_) {
    out.error("ERR EXEC without MULTI");
    co_return Void{};
  }
  const std::vector<std::vector<std::string>> commands = std::move(queued_);
  const std::vector<WatchedKey> watched = std::move(watched_);
  const bool failed = multi_failed_;
  end_multi();
  if (failed) {
    out.error("EXECABORT Transaction discarded because of previous errors.");
    co_return Void{};
  }
  ReplyWriter attempt(out.protocol());
  bool aborted = false;
  auto body = [&](Transaction& transaction, AttemptCounts& counted) -> Future<Void> {
    attempt.clear();
    KeyStore store(transaction, server_.layout, wall_time_ms());
    aborted = co_await any_watched_key_changed(store, watched);
    if (aborted) co_return Void{};
    attempt.array(commands.size());
    for (const std::vector<std::string>& command : commands) {
      const CommandSpec* spec = find_command(lowercase(command[0]));
      KEEL_ASSERT(spec != nullptr);  // checked when queued
      const bool outside = (spec->flags & (command_flags::connection | command_flags::session)) != 0;
      CommandContext context{*this, server_, command, attempt, outside ? nullptr : &store, &counted};
      co_await run_command(*spec, context);
    }
    co_return Void{};
  };
  try {
    co_await run_data_transaction(server_, body);
  } catch (const Error& error) {
    out.error(error_reply_text(error));
    co_return Void{};
  }
  if (aborted) {
    out.null_array();
  } else {
    out.append(attempt);
  }
  co_return Void{};
}

std::vector<CommandSpec> transaction_commands() {
  return {
      {"multi", 1, session_flag | command_flags::fast, 0, 0, 0, multi_command},
      {"exec", 1, session_flag, 0, 0, 0, exec_command},
      {"discard", 1, session_flag | command_flags::fast, 0, 0, 0, discard_command},
      {"watch", -2, session_flag | command_flags::fast, 1, -1, 1, watch_command},
      {"unwatch", 1, command_flags::connection | command_flags::fast, 0, 0, 0, unwatch_command},
  };
}

}  // namespace keel
