#include "frontend/resp/session.h"

#include <algorithm>

#include <fmt/format.h>

#include "frontend/resp/resp_knobs.h"
#include "runtime/scheduler.h"
#include "runtime/trace.h"

namespace keel {
namespace {

// Redis's reply to an unknown command: the name and the first arguments, quoted.
std::string unknown_command_error(const std::vector<std::string>& command) {
  auto sanitized = [](std::string_view text, size_t limit) {
    std::string result(text.substr(0, limit));
    for (char& c : result) {
      if (c == '\r' || c == '\n') c = ' ';
    }
    return result;
  };
  std::string text = "ERR unknown command '" + sanitized(command[0], 128) + "', with args beginning with: ";
  for (size_t i = 1; i < command.size() && text.size() < 256; ++i) text += "'" + sanitized(command[i], 128) + "' ";
  return text;
}

std::string invalid_record_error(std::string_view key) {
  return "ERR the record of key '" + printable(key.substr(0, 128)) +
         "' is not in the Redis front end's format (written through the native API?): DEL removes it, SET "
         "replaces it (resp_record_invalid, 2147)";
}

}  // namespace

std::string error_reply_text(const Error& error) {
  switch (error.code()) {
    case errc::key_too_large: return "ERR key too large: KeelDB keys are at most 10000 bytes with the front end's prefix";
    case errc::value_too_large: return std::string(resp_errors::string_too_long);
    case errc::transaction_too_large: return "ERR transaction too large: a command or EXEC may write at most 10000000 bytes";
    case errc::commit_unknown_result:
      return "ERR the cluster could not confirm the commit (a recovery interrupted it): the command may or may not "
             "have been applied, and is not run again (commit_unknown_result, 1021)";
    default: return "ERR " + error.describe();
  }
}

Session::Session(RespServerState& server, std::shared_ptr<IConnection> connection)
    : server_(server), connection_(std::move(connection)) {
  info_.id = server_.next_client_id++;
  info_.peer = connection_->peer_address();
  info_.connected_at = now();
  info_.active_at = info_.connected_at;
  server_.sessions[info_.id] = this;
}

Session::~Session() { server_.sessions.erase(info_.id); }

void Session::count_errors(const ReplyWriter& out, int errors_before) {
  const std::vector<std::string>& codes = out.error_codes();
  for (size_t i = static_cast<size_t>(errors_before); i < codes.size(); ++i) ++server_.stats.error_codes[codes[i]];
  server_.stats.errors_replied += codes.size() - static_cast<size_t>(errors_before);
}

Future<Void> Session::execute(std::vector<std::string> command, ReplyWriter& out) {
  KEEL_ASSERT(!command.empty());
  out.set_protocol(info_.protocol);
  ++server_.stats.commands_processed;
  const int errors_before = out.errors_written();
  const std::string name = lowercase(command[0]);
  const CommandSpec* spec = find_command(name);
  info_.last_command = spec != nullptr ? name : "NULL";
  const std::string rejection = rejection_of(spec, command);
  if (!rejection.empty() && in_multi_ && spec != nullptr && spec->name == "exec") {
    abort_multi(rejection, out);  // as Redis: a malformed EXEC discards the transaction
  } else if (!rejection.empty()) {
    if (spec != nullptr) ++server_.stats.commands[spec].rejected_calls;
    out.error(rejection);
    multi_failed_ = multi_failed_ || in_multi_;  // EXEC will abort
  } else if (in_multi_ && (spec->flags & command_flags::session) == 0) {
    queue(std::move(command), out);
  } else if ((spec->flags & (command_flags::connection | command_flags::session)) != 0) {
    CommandContext context{*this, server_, command, out, nullptr};
    co_await run_command(*spec, context);
  } else {
    co_await run_in_transaction(*spec, command, out);
  }
  count_errors(out, errors_before);
  co_return Void{};
}

Future<Void> Session::execute_pipeline(std::vector<std::vector<std::string>> commands, ReplyWriter& out) {
  size_t next = 0;
  while (next < commands.size() && !closing_) {
    std::vector<const CommandSpec*> specs;
    std::vector<std::vector<std::string>> batch;
    for (; next < commands.size(); ++next) {
      const CommandSpec* spec = batchable(commands[next]);
      if (spec == nullptr) break;
      specs.push_back(spec);
      batch.push_back(std::move(commands[next]));
    }
    if (!batch.empty()) {
      Future<Void> done = run_grouped(std::move(specs), std::move(batch), out);
      co_await done;
    } else {
      Future<Void> done = execute(std::move(commands[next]), out);
      co_await done;
      ++next;
    }
  }
  co_return Void{};
}

const CommandSpec* Session::batchable(const std::vector<std::string>& command) const {
  if (in_multi_) return nullptr;
  const CommandSpec* spec = find_command(lowercase(command[0]));
  constexpr uint32_t alone = command_flags::connection | command_flags::session | command_flags::unbatched;
  if (spec == nullptr || (spec->flags & alone) != 0) return nullptr;
  return rejection_of(spec, command).empty() ? spec : nullptr;  // else execute() answers it
}

Future<Void> Session::run_grouped(std::vector<const CommandSpec*> specs, std::vector<std::vector<std::string>> commands,
                                  ReplyWriter& out) {
  KEEL_ASSERT(!commands.empty() && specs.size() == commands.size());
  out.set_protocol(info_.protocol);
  server_.stats.commands_processed += commands.size();
  info_.last_command = std::string(specs.back()->name);
  const int errors_before = out.errors_written();
  auto run = std::make_shared<GroupedRun>();
  run->session = this;
  run->specs = std::move(specs);
  run->commands = std::move(commands);
  for (const std::vector<std::string>& command : run->commands) {
    for (const std::string& argument : command) run->argument_bytes += argument.size();
  }
  run->replies = ReplyWriter(info_.protocol);
  Future<bool> grouped = server_.groups.run(run);
  const bool committed = co_await grouped;
  if (committed) {
    out.append(run->replies);
  } else {
    // The group failed with an error a retry cannot cure: this run alone (unless it was alone
    // already), then each command alone, so only the guilty command answers the error.
    Future<Void> done = run_alone(*run, out);
    co_await done;
  }
  count_errors(out, errors_before);
  co_return Void{};
}

Future<Void> Session::run_alone(GroupedRun& run, ReplyWriter& out) {
  if (run.shared && run.commands.size() > 1) {
    const std::vector<GroupedRun*> alone{&run};
    bool committed = false;
    try {
      co_await run_together(server_, alone);
      committed = true;
    } catch (const Error& error) {
      // Not retryable: each command alone below, unless the commit may have been applied.
      if (error.code() == errc::commit_unknown_result) {
        answer_every_command(server_, run, error);
        committed = true;
      }
    }
    if (committed) {
      out.append(run.replies);
      co_return Void{};
    }
  }
  for (size_t i = 0; i < run.commands.size(); ++i) {
    Future<Void> done = run_in_transaction(*run.specs[i], run.commands[i], out);
    co_await done;
  }
  co_return Void{};
}

void Session::queue(std::vector<std::string> command, ReplyWriter& out) {
  if (queued_.size() >= static_cast<size_t>(resp_knobs().resp_multi_commands_max)) {
    out.error("ERR MULTI queue is full (the knob resp_multi_commands_max)");
    multi_failed_ = true;
  } else {
    queued_.push_back(std::move(command));
    out.simple("QUEUED");
  }
}

std::string Session::rejection_of(const CommandSpec* spec, const std::vector<std::string>& command) const {
  if (spec == nullptr) return unknown_command_error(command);
  if (!arity_ok(*spec, command.size())) return wrong_arity_error(spec->name);
  const size_t key_max = server_.layout.redis_key_bytes_max();
  bool key_too_long = false;
  for_each_command_key(*spec, command, [&](const std::string& key) { key_too_long = key_too_long || key.size() > key_max; });
  if (key_too_long) return fmt::format("ERR key too large: KeelDB's Redis keys are at most {} bytes", key_max);
  return subcommand_error(*spec, command);
}

Future<Void> Session::run_in_transaction(const CommandSpec& spec, const std::vector<std::string>& command,
                                         ReplyWriter& out) {
  ReplyWriter attempt(out.protocol());
  std::optional<std::string> invalid_key;  // the key of a record not in the front end's format
  auto body = [&](Transaction& transaction, AttemptCounts& counted) -> Future<Void> {
    attempt = ReplyWriter(out.protocol());
    KeyStore store(transaction, server_.layout, wall_time_ms());
    CommandContext context{*this, server_, command, attempt, &store, &counted};
    Future<Void> handled = run_command(spec, context);
    co_await ready(handled);
    if (handled.is_error()) {
      invalid_key = store.invalid_key();
      throw handled.error();
    }
    co_return Void{};
  };
  try {
    co_await run_data_transaction(server_, body);
    out.append(attempt);
  } catch (const Error& error) {
    server_.stats.add_failed_call(&spec);
    out.error(error.code() == errc::resp_record_invalid && invalid_key
                  ? invalid_record_error(*invalid_key)
                  : error_reply_text(error));
  }
  co_return Void{};
}

}  // namespace keel
