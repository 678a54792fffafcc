// CliSession: the state of one `keel cli` session (writemode, the open transaction) and the
// execution of its commands against the database.
//
// Outside `begin`...`commit` each command is its own transaction, retried on retryable errors
// (Transaction::on_error). Every command is bounded by the session's timeout: when it runs out
// the command fails with timed_out and a hint naming the coordinators, so an unreachable cluster
// never hangs the cli. A database error inside an explicit transaction rolls it back, as fdbcli
// does. Output goes to `out`, errors (`ERROR: name (code): message`) to `err`.
//
// Single-threaded: lives on the event loop of the RealWorld that runs its futures; one command
// at a time (the caller waits for execute() before the next).
#pragma once

#include <cstdio>
#include <functional>
#include <optional>
#include <string>

#include "client/database.h"
#include "cmd/cli_commands.h"
#include "runtime/combinators.h"

namespace keel::cmd {

// A --timeout below this may end a command a running cluster would have answered.
inline constexpr double short_timeout_seconds = 1.0;

class CliSession {
 public:
  CliSession(Database database, double timeout_seconds, std::FILE* out, std::FILE* err);

  // Runs one command; ready with false if it failed (the error is printed).
  Future<bool> execute(CliCommandTokens tokens);

  bool exit_requested() const { return exit_requested_; }
  bool in_transaction() const { return transaction_.has_value() || transaction_failed_; }

 private:
  using Body = std::function<Future<Void>(Transaction&)>;

  Future<Void> run_request(CliRequest request);
  Future<Void> run_body(Body body, bool writes);
  Future<Version> run_retrying(Body body);
  Future<Void> commit_transaction();
  Future<Void> show_status(bool json);
  // coordinators, configure, exclude, include (cli_admin.cpp).
  Future<Void> administer(CliRequest request);
  Future<Void> coordinators(const CliRequest& request);
  Future<Void> configure(const CliRequest& request);
  Future<Void> exclusions(const CliRequest& request);
  // Fails with timed_out if `work` is not done within the session's timeout.
  template <class T>
  Future<T> bounded(Future<T> work);

  bool run_local(const CliRequest& request);
  // After a failure inside begin...commit: ends the failed transaction (rollback, commit) or
  // refuses a command that would run in it, and says whether that succeeded; nullopt for a
  // command that runs as usual (status, help...).
  std::optional<bool> after_failure(CliVerb verb);
  // `finding`: what probing the coordinators found (connection_probe.h), or "".
  void print_error(const Error& error, const std::string& finding);
  void print_message(const std::string& message);

  Database database_;
  double timeout_seconds_;
  std::FILE* out_;
  std::FILE* err_;
  bool writemode_ = false;
  bool exit_requested_ = false;
  std::optional<Transaction> transaction_;  // between begin and commit/rollback
  bool transaction_failed_ = false;          // a command failed in it: refused until rollback/commit
  std::optional<Error> last_retried_error_;  // what the retry loop last met (shown on timeout)
  bool timed_out_ = false;                   // the last failure was the session's own timeout
};

template <class T>
Future<T> CliSession::bounded(Future<T> work) {
  std::optional<T> result = co_await timeout(std::move(work), timeout_seconds_);
  if (!result) {
    timed_out_ = true;
    throw Error(errc::timed_out);
  }
  co_return std::move(*result);
}

}  // namespace keel::cmd
