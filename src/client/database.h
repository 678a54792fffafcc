// The client library: Database and Transaction.
//
//   Database db = co_await Database::open("keel.cluster");
//   auto body = [](Transaction& tr) -> Future<Void> { tr.set("k", "v"); co_return Void{}; };
//   co_await db.run(body);   // (name lambdas before co_await: see docs/runtime.md)
//
// A Transaction reads at one read version (fetched on first use), sees its own writes
// (read-your-writes, including range reads and key selectors), buffers writes, and commits them
// atomically, or fails with a retryable error that on_error() handles (backoff 10 ms doubling
// to 1 s). Limits: key <= 10,000 bytes (key_too_large), value <= 100,000 bytes
// (value_too_large), transaction <= 10,000,000 bytes (transaction_too_large); keys at or above
// \xff need the access_system_keys option (key_outside_legal_range).
//
// Recoveries: the client finds the proxies through the coordinators (database_state.h) and
// forgets them when one fails. A read version is retried inside get_read_version() until a
// proxy answers; a proxy that does not answer within 5 s (grv_timeout_seconds,
// client_knobs.h) counts as failed. A commit is not retried: one whose proxy failed after it
// may have received it ends in commit_unknown_result (retryable; the transaction may or may not
// have committed). A commit has no timeout of its own: a proxy that cannot reach its logs fails
// the commit, and one cut off from the client fails it with request_maybe_delivered once the
// connection's idle timeout expires (rpc/transport.h).
//
// Single-threaded: a Database and its Transactions live on one event loop. A Transaction must
// outlive the futures of its calls.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client/value_reads.h"
#include "client/watch.h"
#include "client/write_map.h"
#include "protocol/proxy_interface.h"
#include "runtime/future.h"
#include "server/coordinator/cluster_connection.h"
#include "world/network_address.h"

namespace keel {

struct DatabaseState;
class Transaction;

class Database {
 public:
  // Reads the cluster file (protocol/cluster_file.h: "keel:<id>@<address>[,<address>...]")
  // through the world's files; fails with no_cluster_file_found or connection_string_invalid.
  // When the coordinators move, the client follows them and rewrites the file.
  static Future<Database> open(std::string cluster_file);
  // Connects to the cluster `connection` names (shared: e.g. a server's own).
  explicit Database(std::shared_ptr<ClusterConnection> connection);
  // Connects to the cluster whose first coordinator set is these (not empty), with its
  // default cluster id.
  explicit Database(std::vector<NetworkAddress> coordinators);
  // Connects to the cluster whose only coordinator is at `coordinator`.
  explicit Database(NetworkAddress coordinator);

  Transaction create_transaction() const;

  // What run() does after commit_unknown_result: the commit may have been applied (the
  // client made sure it can no longer land later). Running `body` again is right only when
  // applying it twice does no harm and its results do not depend on the first.
  enum class UnknownResult { retry, fail };
  // Runs `body` in a transaction and commits it, retrying on retryable errors
  // (commit_unknown_result too, unless `unknown` says fail: then it throws it).
  Future<Void> run(std::function<Future<Void>(Transaction&)> body, UnknownResult unknown = UnknownResult::retry) const;

  const std::shared_ptr<DatabaseState>& state() const { return state_; }

 private:
  std::shared_ptr<DatabaseState> state_;
};

struct RangeResult {
  std::vector<KeyValue> rows;
  bool more = false;  // stopped at the limit before the end of the range
};

class Transaction {
 public:
  explicit Transaction(std::shared_ptr<DatabaseState> database);

  Future<std::optional<Value>> get(Key key, bool snapshot = false);
  // The values of `keys`, in order: as get() of each, with one future for them all (the keys'
  // reads are batched as get()'s are, without a coroutine and a future per key).
  Future<std::vector<std::optional<Value>>> get_all(std::vector<Key> keys, bool snapshot = false);
  Future<Key> get_key(KeySelector selector, bool snapshot = false);
  Future<RangeResult> get_range(KeyRange range, int limit = 1000, bool reverse = false, bool snapshot = false);
  Future<RangeResult> get_range(KeySelector begin, KeySelector end, int limit = 1000, bool reverse = false,
                                bool snapshot = false);

  // Room for `writes` more writes (sets, clears, atomic operations) and conflict ranges, for a
  // caller that knows it is about to make many: the lists then grow once, not by doublings.
  void reserve(size_t writes);
  void set(Key key, Value value);
  void clear(const Key& key);
  void clear_range(const KeyRange& range);
  void atomic_op(MutationType type, const Key& key, const Value& operand);

  Future<Version> get_read_version();
  void set_read_version(Version version);
  void add_read_conflict_range(KeyRange range);
  void add_write_conflict_range(KeyRange range);

  // Commits; ready with the commit version (invalid_version for a read-only transaction). A
  // commit takes the transaction's writes: until reset() (or on_error()), writing or committing
  // again fails with transaction_committed, whatever the outcome.
  Future<Version> commit();
  // The 10-byte versionstamp of this transaction, known once commit() succeeded.
  Future<std::string> get_versionstamp();
  Version committed_version() const { return committed_version_; }
  // Ready once `key` changes after this transaction commits (see client/watch.h).
  Future<Void> watch(Key key);

  // Handles `error`: for a retryable one, waits a backoff and resets (ready to retry);
  // otherwise fails with it.
  Future<Void> on_error(Error error);
  void reset();

  // Options.
  void set_access_system_keys(bool allowed) { access_system_keys_ = allowed; }

 private:
  void check_key(const Key& key, bool for_write) const;
  void check_writable() const;
  void add_mutation(Mutation mutation);
  Future<std::vector<KeyValue>> read_merged(KeyRange range, int limit, bool reverse, bool snapshot, bool* more);
  Future<Void> make_sure_unknown_commit_cannot_land(std::optional<KeyRange> written);
  Key keyspace_limit() const;

  std::shared_ptr<DatabaseState> database_;
  std::optional<Future<Version>> read_version_;
  std::shared_ptr<ValueReads> value_reads_;  // point reads not sent yet (client/value_reads.h)
  WriteMap writes_;
  std::vector<Mutation> mutations_;
  std::vector<KeyRange> read_conflicts_;
  std::vector<KeyRange> write_conflicts_;
  size_t bytes_ = 0;
  bool committing_ = false;
  bool handed_over_ = false;  // commit() took the writes: writing or committing again needs reset()
  bool access_system_keys_ = false;
  Version committed_version_ = invalid_version;
  uint16_t batch_index_ = 0;
  double backoff_seconds_ = 0.01;
  Promise<std::string> versionstamp_;
  PendingWatches watches_;
};

}  // namespace keel
