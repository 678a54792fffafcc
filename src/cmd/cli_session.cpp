#include "cmd/cli_session.h"

#include <algorithm>
#include <memory>

#include <fmt/format.h>

#include "client/connection_probe.h"
#include "client/database_state.h"
#include "client/status.h"
#include "cmd/cli_admin.h"
#include "cmd/cli_status.h"
#include "protocol/cluster_file.h"
#include "runtime/assert.h"
#include "runtime/combinators.h"

namespace keel::cmd {
namespace {

using Output = std::shared_ptr<std::string>;

std::string ticked(const std::string& bytes) { return fmt::format("`{}'", printable(bytes)); }

// The bodies of the database commands. Each is a coroutine with its parameters by value (the
// std::function that calls it may be gone before it finishes) and writes its output only when
// done, so a retried attempt does not print twice.

Future<Void> read_value(Transaction& transaction, Key key, Output output) {
  Future<std::optional<Value>> read = transaction.get(key);
  const std::optional<Value> value = co_await read;
  *output = value ? fmt::format("{} is {}\n", ticked(key), ticked(*value)) : fmt::format("{}: not found\n", ticked(key));
  co_return Void{};
}

Future<Void> read_range(Transaction& transaction, KeyRange range, int limit, bool reverse, Output output) {
  Future<RangeResult> read = transaction.get_range(range, limit, reverse);
  const RangeResult result = co_await read;
  std::string text = fmt::format("Range limited to {} keys\n", limit);
  for (const KeyValue& row : result.rows) text += fmt::format("{} is {}\n", ticked(row.key), ticked(row.value));
  *output = std::move(text);
  co_return Void{};
}

Future<Void> resolve_selector(Transaction& transaction, KeySelector selector, Output output) {
  Future<Key> resolved = transaction.get_key(selector);
  const Key key = co_await resolved;
  *output = fmt::format("Key: {}\n", ticked(key));
  co_return Void{};
}

Future<Void> write(Transaction& transaction, CliRequest request) {
  if (request.verb == CliVerb::set) transaction.set(request.key, request.value);
  if (request.verb == CliVerb::clear) transaction.clear(request.key);
  if (request.verb == CliVerb::clearrange) {
    const KeyRange range{request.key, request.end};
    transaction.clear_range(range);
  }
  co_return Void{};
}

std::function<Future<Void>(Transaction&)> body_of(const CliRequest& request, Output output) {
  switch (request.verb) {
    case CliVerb::get:
      return [key = request.key, output](Transaction& transaction) { return read_value(transaction, key, output); };
    case CliVerb::getrange: {
      const KeyRange range{request.key, request.end};
      return [range, limit = request.limit, reverse = request.reverse, output](Transaction& transaction) {
        return read_range(transaction, range, limit, reverse, output);
      };
    }
    case CliVerb::getkey:
      return [selector = request.selector, output](Transaction& transaction) {
        return resolve_selector(transaction, selector, output);
      };
    default:
      return [request](Transaction& transaction) { return write(transaction, request); };
  }
}

// The verbs whose body runs in the open transaction (between begin and commit).
bool body_runs_in_transaction(CliVerb verb) {
  switch (verb) {
    case CliVerb::get:
    case CliVerb::set:
    case CliVerb::clear:
    case CliVerb::clearrange:
    case CliVerb::getrange:
    case CliVerb::getkey:
      return true;
    default:
      return false;
  }
}

bool needs_database(CliVerb verb) {
  if (body_runs_in_transaction(verb)) return true;
  switch (verb) {
    case CliVerb::commit:
    case CliVerb::status:
    case CliVerb::coordinators:
    case CliVerb::configure:
    case CliVerb::exclude:
    case CliVerb::include:
      return true;
    default:
      return false;
  }
}

}  // namespace

CliSession::CliSession(Database database, double timeout_seconds, std::FILE* out, std::FILE* err)
    : database_(std::move(database)), timeout_seconds_(timeout_seconds), out_(out), err_(err) {}

Future<bool> CliSession::execute(CliCommandTokens tokens) {
  CliRequest request;
  try {
    request = parse_cli_request(tokens);
  } catch (const CliUsageError& error) {
    print_message(error.message);
    co_return false;
  }
  if (transaction_failed_) {
    const std::optional<bool> handled = after_failure(request.verb);
    if (handled) co_return *handled;
  }
  if (!needs_database(request.verb)) co_return run_local(request);
  if (request.verb == CliVerb::commit && !transaction_) {
    print_message(cli_error_line(errc::transaction_state_invalid, "No active transaction"));
    co_return false;
  }
  if (is_write(request.verb) && !writemode_) {
    print_message(cli_error_line(errc::writemode_off, "writemode must be enabled to set or clear keys in the database (`writemode on')."));
    co_return false;
  }
  last_retried_error_.reset();
  timed_out_ = false;
  const CliVerb verb = request.verb;
  Future<Void> done = run_request(std::move(request));
  co_await ready(done);
  if (!done.is_error()) co_return true;
  std::string finding;
  if (timed_out_ || done.error().code() == errc::connection_failed || done.error().code() == errc::broken_promise) {
    Future<std::string> probed = probe_coordinators(database_.state()->connection->get());
    finding = co_await probed;
  }
  print_error(done.error(), finding);
  // A failed status or admin command leaves the transaction as it was.
  const bool in_transaction_verb = verb == CliVerb::commit || body_runs_in_transaction(verb);
  if (transaction_ && in_transaction_verb) {
    transaction_.reset();
    if (verb == CliVerb::commit) {
      print_message("Rolling back current transaction");
    } else {
      // Its later commands must not run one by one, as if outside it (a piped script would
      // commit part of what it wrote between begin and commit).
      transaction_failed_ = true;
      print_message("Rolling back current transaction: its commands are refused until `rollback' or `commit' ends it");
    }
  }
  co_return false;
}

std::optional<bool> CliSession::after_failure(CliVerb verb) {
  switch (verb) {
    case CliVerb::rollback:
      transaction_failed_ = false;
      fmt::print(out_, "Transaction rolled back\n");
      std::fflush(out_);
      return true;
    case CliVerb::commit:
      transaction_failed_ = false;
      print_message(cli_error_line(errc::transaction_state_invalid, "The transaction failed and was rolled back: nothing of it was committed"));
      return false;
    default:
      if (verb != CliVerb::begin && !body_runs_in_transaction(verb)) return std::nullopt;
      print_message(cli_error_line(errc::transaction_state_invalid, "The current transaction failed and was rolled back: `rollback' or `commit' ends it"));
      return false;
  }
}

bool CliSession::run_local(const CliRequest& request) {
  switch (request.verb) {
    case CliVerb::help:
      try {
        fmt::print(out_, "{}", cli_help_text(request.topic));
      } catch (const CliUsageError& error) {
        print_message(error.message);
        return false;
      }
      break;
    case CliVerb::writemode:
      writemode_ = request.writemode_on;
      break;
    case CliVerb::begin:
      if (transaction_) {
        print_message(cli_error_line(errc::transaction_state_invalid, "Already in a transaction (commit or rollback first)"));
        return false;
      }
      transaction_.emplace(database_.create_transaction());
      fmt::print(out_, "Transaction started\n");
      break;
    case CliVerb::rollback:
      if (!transaction_) {
        print_message(cli_error_line(errc::transaction_state_invalid, "No active transaction"));
        return false;
      }
      transaction_.reset();
      fmt::print(out_, "Transaction rolled back\n");
      break;
    case CliVerb::exit:
      exit_requested_ = true;
      break;
    default:
      KEEL_ASSERT(false);
  }
  std::fflush(out_);
  return true;
}

Future<Void> CliSession::run_request(CliRequest request) {
  if (request.verb == CliVerb::status) {
    Future<Void> shown = show_status(request.json);
    co_await shown;
    co_return Void{};
  }
  if (is_admin(request.verb)) {
    Future<Void> done = administer(std::move(request));
    co_await done;
    co_return Void{};
  }
  if (request.verb == CliVerb::commit) {
    Future<Void> committed = commit_transaction();
    co_await committed;
    co_return Void{};
  }
  auto output = std::make_shared<std::string>();
  Body body = body_of(request, output);
  if (transaction_) {
    Future<Void> done = bounded(body(*transaction_));
    co_await done;
  } else {
    Future<Version> committed = bounded(run_retrying(body));
    const Version version = co_await committed;
    if (is_write(request.verb)) *output += fmt::format("Committed ({})\n", version);
  }
  fmt::print(out_, "{}", *output);
  std::fflush(out_);
  co_return Void{};
}

Future<Version> CliSession::run_retrying(Body body) {
  Transaction transaction = database_.create_transaction();
  while (true) {
    Error failure;
    try {
      Future<Void> done = body(transaction);
      co_await done;
      Future<Version> committed = transaction.commit();
      const Version version = co_await committed;
      co_return version;
    } catch (const Error& error) {
      failure = error;
    }
    last_retried_error_ = failure;
    Future<Void> handled = transaction.on_error(failure);  // rethrows what is not retryable
    co_await handled;
  }
}

Future<Void> CliSession::commit_transaction() {
  Future<Version> committed = bounded(transaction_->commit());
  const Version version = co_await committed;
  transaction_.reset();
  fmt::print(out_, "Committed ({})\n", version);
  std::fflush(out_);
  co_return Void{};
}

Future<Void> CliSession::show_status(bool json) {
  Future<ClusterStatus> status = bounded(ask_status(database_, &last_retried_error_));
  const ClusterStatus cluster = co_await status;
  // Each coordinator asked directly: the controller's status cannot tell one that is down.
  ClusterConnectionString connection = database_.state()->connection->get();
  connection.coordinators = cluster.coordinators;
  Future<std::vector<std::string>> probed = coordinator_problems(connection);
  const std::vector<std::string> problems = co_await probed;
  fmt::print(out_, "{}", json ? cluster_status_json(cluster, problems) + "\n" : format_cluster_status(cluster, problems));
  std::fflush(out_);
  co_return Void{};
}

void CliSession::print_error(const Error& error, const std::string& finding) {
  const std::string coordinator = describe_addresses(database_.state()->connection->get().coordinators);
  std::string hint = finding.empty() ? fmt::format("is the cluster at {} running?", coordinator) : finding;
  // Every coordinator answered the probe: a timeout this short may be what failed.
  if (timed_out_ && finding.empty() && timeout_seconds_ < short_timeout_seconds) {
    hint = fmt::format("its coordinators answer; --timeout {:g} s may be too short for the cluster to reply", timeout_seconds_);
  }
  std::string text = "ERROR: " + error.describe();
  if (timed_out_) {
    text += fmt::format(" after {:g} s ({}", timeout_seconds_, hint);
    if (last_retried_error_) text += (finding.empty() ? " " : "; ") + std::string("last error: ") + last_retried_error_->describe();
    text += ")";
  } else if (error.code() == errc::connection_failed || error.code() == errc::broken_promise) {
    text += fmt::format(" ({})", hint);
  }
  print_message(text);
}

void CliSession::print_message(const std::string& message) {
  std::fflush(out_);
  fmt::print(err_, "{}\n", message);
  std::fflush(err_);
}

}  // namespace keel::cmd
