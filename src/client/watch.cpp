#include "client/watch.h"

#include <algorithm>

#include "client/database.h"
#include "client/database_state.h"
#include "client/load_balance.h"
#include "runtime/scheduler.h"
#include "runtime/trace.h"

namespace keel {
namespace {

constexpr double retry_delay_first_seconds = 0.01;
constexpr double retry_delay_max_seconds = 1.0;

// Counts a Database's outstanding watches for as long as a watch runs.
class WatchCount {
 public:
  explicit WatchCount(DatabaseState* database) : database_(database) { ++database_->watches; }
  WatchCount(const WatchCount&) = delete;
  WatchCount& operator=(const WatchCount&) = delete;
  ~WatchCount() { --database_->watches; }

 private:
  DatabaseState* database_;
};

// The value the watch compares against: the key as of `version`. Fails with
// transaction_too_old when the version left the window before it could be read.
Future<std::optional<Value>> starting_value(std::shared_ptr<DatabaseState> database, Key key, Version version,
                                            bool access_system_keys) {
  double backoff = retry_delay_first_seconds;
  while (true) {
    Error failure;
    try {
      Transaction reader(database);
      reader.set_access_system_keys(access_system_keys);
      reader.set_read_version(version);
      Future<std::optional<Value>> value = reader.get(key, true);
      co_return co_await value;
    } catch (const Error& error) {
      failure = error;
    }
    if (failure.code() == errc::transaction_too_old || !failure.is_retryable()) throw failure;
    co_await delay(backoff);
    backoff = std::min(backoff * 2, retry_delay_max_seconds);
  }
}

Future<Void> run_watch(std::shared_ptr<DatabaseState> database, Key key, Future<Version> start,
                       bool access_system_keys) {
  WatchCount counted(database.get());
  Version version = co_await start;
  std::optional<Value> value = co_await starting_value(database, key, version, access_system_keys);
  double backoff = retry_delay_first_seconds;
  while (true) {
    Error failure;
    std::optional<NetworkAddress> server;  // the member asked, once chosen
    try {
      ShardLocation location = co_await database->locate(key);
      // One member of the team (any applies the same mutations); one that failed lately last.
      const StorageServerInterface& member = location.servers[team_order(*database, location).front()];
      server = member.watch_value.endpoint().address;
      WatchValueRequest request;
      request.key = key;
      request.value = value;
      request.version = version;
      Future<WatchValueReply> replied = member.watch_value.get_reply(request);
      WatchValueReply reply = co_await std::move(replied);
      if (reply.changed) co_return Void{};
      version = std::max(version, reply.version);
      backoff = retry_delay_first_seconds;
      continue;
    } catch (const Error& error) {
      failure = error;
    }
    if (!failure.is_retryable()) throw failure;
    // The server may have died (the next attempt prefers another member) or lost the shard:
    // ask where the key lives now.
    if (server && is_storage_unavailable(failure)) avoid_storage_server(*database, *server);
    database->invalidate(key);
    TraceEvent(Severity::info, "ClientWatchRetry").error(failure).suppress_for(1);
    co_await delay(backoff);
    backoff = std::min(backoff * 2, retry_delay_max_seconds);
  }
}

}  // namespace

PendingWatches& PendingWatches::operator=(PendingWatches&& other) noexcept {
  if (this != &other) {
    cancel();
    starts_ = std::move(other.starts_);
    other.starts_.clear();
  }
  return *this;
}

Future<Void> PendingWatches::add(std::shared_ptr<DatabaseState> database, Key key, bool access_system_keys) {
  if (database->watches >= DatabaseState::watches_max) throw Error(errc::too_many_watches);
  Promise<Version>& start = starts_.emplace_back();
  return run_watch(std::move(database), std::move(key), start.get_future(), access_system_keys);
}

void PendingWatches::activate(Version version) {
  for (Promise<Version>& start : starts_) start.send(version);
  starts_.clear();
}

void PendingWatches::cancel() {
  for (Promise<Version>& start : starts_) start.send_error(Error(errc::transaction_cancelled));
  starts_.clear();
}

}  // namespace keel
