// Session: the state of one client connection and the way its commands run: in order, each
// seeing the effects of the ones before; a run of pipelined data commands that arrived together
// shares one transaction (read-your-writes gives each the previous one's effects), which runs
// of other connections arriving meanwhile may share too (command_groups.h); any other command
// runs alone; between MULTI and EXEC commands are queued and then run together in one
// transaction.
//
// WATCH: at WATCH the session reads each key's modification stamp and whether the key is alive;
// EXEC re-reads both inside its transaction (which puts read conflicts on them) and returns the
// null reply if any changed: the stamp is written by every commit that changes the key, so this
// holds however long after WATCH the EXEC comes, for same-value writes, for create-then-delete
// and for this client's own writes. An expired key counts as gone; the sweeper removing an
// expired key does not count as a change. For a key that is not alive WATCH also reads (or
// writes) its marker, which FLUSHALL changes when it removes the key: a key created and then
// flushed is a change; a flush of a key that stayed missing is not, as in Redis.
//
// Single-threaded; owned by the connection's actor, registered in RespServerState meanwhile.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "frontend/resp/commands.h"
#include "frontend/resp/server_state.h"
#include "world/world.h"

namespace keel {

struct ClientInfo {
  uint64_t id = 0;
  std::string name;
  std::string lib_name;
  std::string lib_version;
  int protocol = 2;
  NetworkAddress peer;
  double connected_at = 0;  // now()
  double active_at = 0;     // now() when its last input arrived (CLIENT LIST idle, CONFIG SET timeout)
  std::string last_command = "NULL";
};

struct WatchedKey {
  std::string key;
  bool alive = false;
  std::optional<std::string> stamp;
  std::optional<std::string> marker;  // a key that was not alive: its WATCH marker (keyspace.h)
};

class Session {
 public:
  Session(RespServerState& server, std::shared_ptr<IConnection> connection);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Runs one command and appends its reply to `out` (whose protocol the session sets).
  Future<Void> execute(std::vector<std::string> command, ReplyWriter& out);
  // Runs commands that arrived together (pipelined), in order, replies appended to `out` in
  // order. Each run of consecutive batchable data commands (outside MULTI) is one transaction
  // with the retry loop, shared with the runs other connections send meanwhile
  // (command_groups.h); a conflict re-runs the whole group. If the group fails otherwise (a key
  // or transaction too large), the run goes alone, then its commands one transaction each, so
  // one command's failure never affects the others. Stops after a command that closes the
  // connection.
  Future<Void> execute_pipeline(std::vector<std::vector<std::string>> commands, ReplyWriter& out);

  ClientInfo& info() { return info_; }
  const ClientInfo& info() const { return info_; }
  // The client's connection (CONFIG SET timeout closes it when idle).
  const std::shared_ptr<IConnection>& connection() const { return connection_; }
  // The connection closes once the replies written so far are sent (QUIT).
  void close_after_reply() { closing_ = true; }
  bool closing() const { return closing_; }
  bool in_multi() const { return in_multi_; }
  size_t watched_count() const { return watched_.size(); }

  // MULTI, EXEC, DISCARD, WATCH, UNWATCH, RESET (transaction_commands.cpp).
  void multi(ReplyWriter& out);
  Future<Void> exec(ReplyWriter& out);
  void discard(ReplyWriter& out);
  Future<Void> watch(std::vector<std::string> keys, ReplyWriter& out);
  void unwatch() { watched_.clear(); }
  void reset();

 private:
  // The spec of a command that may share a transaction with its neighbours, or nullptr.
  const CommandSpec* batchable(const std::vector<std::string>& command) const;
  // A run of batchable data commands: in a transaction shared with other connections' runs
  // (command_groups.h), or, if that group failed with an error a retry cannot cure, alone.
  Future<Void> run_grouped(std::vector<const CommandSpec*> specs, std::vector<std::vector<std::string>> commands,
                           ReplyWriter& out);
  Future<Void> run_alone(GroupedRun& run, ReplyWriter& out);
  // Counts the errors `out` holds past the first `errors_before` (INFO stats and errorstats).
  void count_errors(const ReplyWriter& out, int errors_before);
  void queue(std::vector<std::string> command, ReplyWriter& out);
  // What Redis answers before it runs or queues a command (an unknown command or subcommand, the
  // wrong number of arguments), and a key longer than the front end stores; empty if none.
  std::string rejection_of(const CommandSpec* spec, const std::vector<std::string>& command) const;
  // Ends the transaction MULTI started, answering EXECABORT with `reason` (an error text).
  void abort_multi(const std::string& reason, ReplyWriter& out);
  // Leaves MULTI: no queued commands, no WATCHed keys.
  void end_multi();
  Future<Void> run_in_transaction(const CommandSpec& spec, const std::vector<std::string>& command, ReplyWriter& out);

  RespServerState& server_;
  std::shared_ptr<IConnection> connection_;
  ClientInfo info_;
  bool closing_ = false;
  bool in_multi_ = false;
  bool multi_failed_ = false;  // a command was rejected while queueing: EXEC aborts
  std::vector<std::vector<std::string>> queued_;
  std::vector<WatchedKey> watched_;
};

// The reply text of a KeelDB error that ended a command ("ERR ..." in Redis's form).
std::string error_reply_text(const Error& error);

}  // namespace keel
