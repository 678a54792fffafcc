#include <algorithm>

#include "client/client_knobs.h"
#include "client/database.h"
#include "client/database_state.h"
#include "client/load_balance.h"
#include "client/read_versions.h"
#include "client/value_reads.h"
#include "protocol/atomic_ops.h"
#include "protocol/limits.h"
#include "runtime/combinators.h"
#include "runtime/scheduler.h"
#include "runtime/trace.h"

namespace keel {
namespace {

constexpr double backoff_max_seconds = 1.0;
constexpr int range_batch_rows = 1000;
const Key system_keys_end = "\xff\xff";
const Key user_keys_end = "\xff";

// One request's worth of a range read (within one shard), with whether more may follow.
struct StoragePage {
  std::vector<KeyValue> rows;
  KeyRange covered;  // the part of the range this page fully accounts for
};

Future<StoragePage> storage_page(DatabaseState* database, KeyRange range, Version version, int limit, bool reverse) {
  auto send = [&range, version, limit, reverse](const ShardLocation& location, const StorageServerInterface& server) {
    GetKeyValuesRequest request;
    request.range = KeyRange{std::max(range.begin, location.range.begin), std::min(range.end, location.range.end)};
    request.version = version;
    request.limit = limit;
    request.reverse = reverse;
    return server.get_key_values.get_reply(std::move(request));
  };
  const Key anchor = reverse ? range.end : range.begin;
  ShardLocation location;
  GetKeyValuesReply reply = co_await at_shard<GetKeyValuesReply>(database, anchor, reverse, send, &location);
  StoragePage page;
  page.covered = KeyRange{std::max(range.begin, location.range.begin), std::min(range.end, location.range.end)};
  if (reply.more && !reply.data.empty()) {
    if (reverse) page.covered.begin = reply.data.back().key;
    else page.covered.end = key_after(reply.data.back().key);
  }
  page.rows = std::move(reply.data);
  co_return page;
}

// Whether a failed commit may still have been (or be) applied: the proxy said so, or the
// request reached it and then the proxy vanished (a proxy that ends drops the batches it was
// pushing to the logs: broken_promise), or its push met a locked log.
bool commit_outcome_unknown(const Error& error) {
  switch (error.code()) {
    case errc::commit_unknown_result:
    case errc::request_maybe_delivered:
    case errc::broken_promise:
    case errc::tlog_stopped:
      return true;
    default:
      return false;
  }
}

}  // namespace

Transaction::Transaction(std::shared_ptr<DatabaseState> database)
    : database_(std::move(database)), value_reads_(std::make_shared<ValueReads>()) {}

Key Transaction::keyspace_limit() const { return access_system_keys_ ? system_keys_end : user_keys_end; }

void Transaction::check_key(const Key& key, bool for_write) const {
  if (key.size() > key_bytes_max) throw Error(errc::key_too_large);
  if (!access_system_keys_ && !key.empty() && key[0] == system_key_byte) throw Error(errc::key_outside_legal_range);
  if (for_write && key >= system_keys_end) throw Error(errc::key_outside_legal_range);
}

void Transaction::check_writable() const {
  if (committing_) throw Error(errc::used_during_commit);
  if (handed_over_) throw Error(errc::transaction_committed);
}

void Transaction::add_mutation(Mutation mutation) {
  bytes_ += mutation.expected_size();
  if (bytes_ > transaction_bytes_max) throw Error(errc::transaction_too_large);
  mutations_.push_back(std::move(mutation));
}

Future<Version> Transaction::get_read_version() {
  if (!read_version_) read_version_ = batched_read_version(database_);
  return *read_version_;
}

void Transaction::set_read_version(Version version) {
  if (read_version_) throw Error(errc::read_version_already_set);
  read_version_ = Future<Version>(version);
}

Future<std::optional<Value>> Transaction::get(Key key, bool snapshot) {
  check_key(key, false);
  if (!snapshot) read_conflicts_.push_back(single_key_range(key));
  if (!writes_.needs_stored(key)) co_return writes_.read(key, std::nullopt);
  // Joins the transaction's batch of point reads before suspending (client/value_reads.h). The
  // first read may learn the read version from the storage server instead of a proxy.
  std::optional<Promise<Version>> learn;
  if (!read_version_ && can_learn_read_version(*database_, *value_reads_, key)) {
    learn.emplace();
    read_version_ = learned_read_version(learn->get_future(), database_);
  }
  Future<std::optional<Value>> read =
      read_stored_value(database_, value_reads_, key, get_read_version(), std::move(learn));
  std::optional<Value> stored = co_await std::move(read);
  co_return writes_.read(key, std::move(stored));
}

Future<std::vector<std::optional<Value>>> Transaction::get_all(std::vector<Key> keys, bool snapshot) {
  std::vector<std::optional<Value>> values;
  if (keys.empty()) co_return values;
  for (const Key& key : keys) {
    check_key(key, false);
    if (!snapshot) read_conflicts_.push_back(single_key_range(key));
  }
  std::optional<Promise<Version>> learn;
  if (!read_version_ && can_learn_read_version(*database_, *value_reads_, keys.front())) {
    learn.emplace();
    read_version_ = learned_read_version(learn->get_future(), database_);
  }
  Future<std::vector<std::optional<Value>>> read =
      read_stored_values(database_, value_reads_, keys, get_read_version(), std::move(learn));
  values = co_await std::move(read);
  // Merged with this transaction's writes (as get() merges, after its read): a key whose whole
  // state is written was read for nothing, which get_all's callers (a group of GETs) rarely do.
  if (!writes_.empty()) {
    for (size_t i = 0; i < keys.size(); ++i) values[i] = writes_.read(keys[i], std::move(values[i]));
  }
  co_return values;
}

// Up to `limit` rows of `range` as this transaction sees them: storage pages merged with the
// transaction's own writes. Adds the part of the range it looked at as a read conflict.
Future<std::vector<KeyValue>> Transaction::read_merged(KeyRange range, int limit, bool reverse, bool snapshot, bool* more) {
  std::vector<KeyValue> result;
  *more = false;
  bool truncated = false;  // a row of the last page was left out at the limit
  const KeyRange requested = range;
  const Version version = co_await get_read_version();
  while (!range.empty() && static_cast<int>(result.size()) < limit) {
    const int want = std::min(range_batch_rows, limit - static_cast<int>(result.size()) + 16);
    StoragePage page = co_await storage_page(database_.get(), range, version, want, reverse);
    std::map<Key, std::optional<Value>> merged;
    for (KeyValue& row : page.rows) merged[row.key] = std::move(row.value);
    for (const Key& key : writes_.keys_in(page.covered)) merged.emplace(key, std::nullopt);
    auto visit = [&](const Key& key, std::optional<Value>& stored) {  // `stored` is not read again
      std::optional<Value> value = writes_.read(key, std::move(stored));
      if (!value) return;
      if (static_cast<int>(result.size()) >= limit) truncated = true;
      else result.push_back(KeyValue{key, std::move(*value)});
    };
    if (reverse) {
      for (auto it = merged.rbegin(); it != merged.rend(); ++it) visit(it->first, it->second);
      range.end = page.covered.begin;
    } else {
      for (auto& [key, stored] : merged) visit(key, stored);
      range.begin = page.covered.end;
    }
  }
  KeyRange looked = requested;
  if (static_cast<int>(result.size()) >= limit && (truncated || !range.empty())) {
    *more = true;
    if (reverse) looked.begin = result.back().key;
    else looked.end = key_after(result.back().key);
  }
  if (!snapshot) read_conflicts_.push_back(looked);
  co_return result;
}

Future<RangeResult> Transaction::get_range(KeyRange range, int limit, bool reverse, bool snapshot) {
  if (range.begin > range.end) throw Error(errc::inverted_range);
  if (limit <= 0) throw Error(errc::client_invalid_operation);
  range.end = std::min(range.end, keyspace_limit());
  check_key(range.begin, false);
  RangeResult result;
  if (range.empty()) co_return result;
  result.rows = co_await read_merged(range, limit, reverse, snapshot, &result.more);
  co_return result;
}

Future<Key> Transaction::get_key(KeySelector selector, bool snapshot) {
  // As in FoundationDB, a selector may name the keyspace's end itself (lastLessThan("\xff") is
  // the last key); only keys past it need system access.
  if (selector.key.size() > key_bytes_max) throw Error(errc::key_too_large);
  if (selector.key > keyspace_limit()) throw Error(errc::key_outside_legal_range);
  const Key start = selector.or_equal ? key_after(selector.key) : selector.key;
  bool more = false;
  const bool forward = selector.offset > 0;
  const int wanted = forward ? selector.offset : 1 - selector.offset;
  const KeyRange range = forward ? KeyRange{std::min(start, keyspace_limit()), keyspace_limit()}
                                 : KeyRange{"", std::min(start, keyspace_limit())};
  std::vector<KeyValue> rows;
  if (!range.empty()) rows = co_await read_merged(range, wanted, !forward, snapshot, &more);
  if (static_cast<int>(rows.size()) >= wanted) co_return rows[static_cast<size_t>(wanted - 1)].key;
  // Past either edge of the keyspace the answer is the edge.
  co_return forward ? keyspace_limit() : Key();
}

Future<RangeResult> Transaction::get_range(KeySelector begin, KeySelector end, int limit, bool reverse, bool snapshot) {
  Future<Key> begin_key = get_key(std::move(begin), snapshot);
  Future<Key> end_key = get_key(std::move(end), snapshot);
  const Key from = co_await begin_key;
  const Key to = co_await end_key;
  if (from >= to) co_return RangeResult{};
  const KeyRange range{from, to};
  co_return co_await get_range(range, limit, reverse, snapshot);
}

void Transaction::reserve(size_t writes) {
  mutations_.reserve(mutations_.size() + writes);
  write_conflicts_.reserve(write_conflicts_.size() + writes);
  read_conflicts_.reserve(read_conflicts_.size() + writes);
}

void Transaction::set(Key key, Value value) {
  check_writable();
  check_key(key, true);
  if (value.size() > value_bytes_max) throw Error(errc::value_too_large);
  add_mutation(Mutation{MutationType::set_value, key, std::move(value)});
  writes_.set(key, mutations_.back().param2);
  write_conflicts_.push_back(single_key_range(std::move(key)));
}

void Transaction::clear(const Key& key) { clear_range(single_key_range(key)); }

void Transaction::clear_range(const KeyRange& range) {
  check_writable();
  if (range.begin > range.end) throw Error(errc::inverted_range);
  check_key(range.begin, true);
  if (range.end > keyspace_limit() && !(access_system_keys_ && range.end <= system_keys_end)) {
    throw Error(errc::key_outside_legal_range);
  }
  if (range.empty()) return;
  add_mutation(Mutation{MutationType::clear_range, range.begin, range.end});
  writes_.clear(range);
  write_conflicts_.push_back(range);
}

void Transaction::atomic_op(MutationType type, const Key& key, const Value& operand) {
  check_writable();
  if (!is_atomic(type)) throw Error(errc::client_invalid_operation);
  if (operand.size() > value_bytes_max) throw Error(errc::value_too_large);
  Mutation mutation{type, key, operand};
  if (is_versionstamped(type)) {
    validate_versionstamped(mutation);
    if (type == MutationType::set_versionstamped_key) {
      check_key(key.substr(0, key.size() - 4), true);
    } else {
      check_key(key, true);
      write_conflicts_.push_back(single_key_range(key));
    }
    add_mutation(std::move(mutation));
    return;
  }
  check_key(key, true);
  add_mutation(mutation);
  writes_.atomic(type, key, operand);
  write_conflicts_.push_back(single_key_range(key));  // atomic ops add no read conflict
}

void Transaction::add_read_conflict_range(KeyRange range) {
  if (range.begin > range.end) throw Error(errc::inverted_range);
  read_conflicts_.push_back(std::move(range));
}

void Transaction::add_write_conflict_range(KeyRange range) {
  if (range.begin > range.end) throw Error(errc::inverted_range);
  write_conflicts_.push_back(std::move(range));
}

Future<Version> Transaction::commit() {
  check_writable();
  if (mutations_.empty() && write_conflicts_.empty()) {
    committed_version_ = invalid_version;  // read-only: nothing to commit
    if (!watches_.empty()) watches_.activate(co_await get_read_version());
    co_return committed_version_;
  }
  committing_ = true;
  CommitTransactionRequest request;
  // A transaction that read nothing needs no read version: it cannot conflict, and its commit
  // version orders it after every acknowledged commit (the resolver checks age only for reads).
  const bool blind = !read_version_ && read_conflicts_.empty();
  request.read_version = blind ? 0 : co_await get_read_version();
  // The request takes the writes and conflict ranges (a group of Redis commands holds thousands:
  // copies were a string allocation each); only a fence for an unknown outcome stays behind.
  std::optional<KeyRange> fence;
  if (!write_conflicts_.empty()) fence = write_conflicts_.front();
  request.read_conflict_ranges = std::move(read_conflicts_);
  request.write_conflict_ranges = std::move(write_conflicts_);
  request.mutations = std::move(mutations_);
  read_conflicts_.clear();
  write_conflicts_.clear();
  mutations_.clear();
  handed_over_ = true;
  ProxyInterface proxy = co_await database_->proxy();
  Future<CommitReply> committed = proxy.commit.get_reply(std::move(request));
  co_await ready(committed);
  committing_ = false;
  if (committed.is_error()) {
    const Error error = committed.error();
    // A proxy that answers commit_unknown_result has a broken chain and ends.
    if (is_proxy_failure(error) || error.code() == errc::commit_unknown_result) database_->forget_proxies();
    if (!commit_outcome_unknown(error)) throw error;
    Future<Void> settled = make_sure_unknown_commit_cannot_land(std::move(fence));
    co_await settled;
    throw Error(errc::commit_unknown_result);
  }
  committed_version_ = committed.get().version;
  batch_index_ = committed.get().batch_index;
  versionstamp_.send(make_versionstamp(committed_version_, batch_index_));
  watches_.activate(committed_version_);
  co_return committed_version_;
}

// After an unknown outcome, commits a transaction that conflicts with the original's writes at a
// later version: once it commits, the original either committed before it or never will.
Future<Void> Transaction::make_sure_unknown_commit_cannot_land(std::optional<KeyRange> written) {
  const KeyRange fence = written ? std::move(*written) : single_key_range("\xff/unknownResultFence");
  for (int attempt = 0; attempt < 10; ++attempt) {
    Transaction dummy(database_);
    dummy.set_access_system_keys(true);
    try {
      dummy.add_read_conflict_range(fence);
      dummy.add_write_conflict_range(fence);
      Future<Version> committed = dummy.commit();
      co_await committed;
      co_return Void{};
    } catch (const Error& error) {
      TraceEvent(Severity::info, "ClientUnknownResultFenceRetry").error(error).suppress_for(1);
    }
    co_await delay(0.01 * (1 << std::min(attempt, 6)));
  }
  co_return Void{};
}

Future<std::string> Transaction::get_versionstamp() { return versionstamp_.get_future(); }

Future<Void> Transaction::watch(Key key) {
  check_writable();
  check_key(key, false);
  return watches_.add(database_, std::move(key), access_system_keys_);
}

void Transaction::reset() {
  read_version_.reset();
  value_reads_ = std::make_shared<ValueReads>();  // batches already made still answer their reads
  writes_.reset();
  mutations_.clear();
  read_conflicts_.clear();
  write_conflicts_.clear();
  bytes_ = 0;
  committing_ = false;
  handed_over_ = false;
  committed_version_ = invalid_version;
  versionstamp_ = Promise<std::string>();
  watches_.cancel();
}

Future<Void> Transaction::on_error(Error error) {
  if (!error.is_retryable()) throw error;
  // (Proxy failures already made the database forget its proxies where they happened.)
  const double wait = backoff_seconds_;
  backoff_seconds_ = std::min(backoff_seconds_ * 2, backoff_max_seconds);
  reset();
  co_await delay(wait);
  co_return Void{};
}

Transaction Database::create_transaction() const { return Transaction(state_); }

Future<Void> Database::run(std::function<Future<Void>(Transaction&)> body, UnknownResult unknown) const {
  Transaction transaction(state_);
  while (true) {
    Error failure;
    try {
      Future<Void> done = body(transaction);
      co_await done;
      Future<Version> committed = transaction.commit();
      co_await committed;
      co_return Void{};
    } catch (const Error& error) {
      failure = error;
    }
    if (unknown == UnknownResult::fail && failure.code() == errc::commit_unknown_result) throw failure;
    co_await transaction.on_error(failure);
  }
}

}  // namespace keel
