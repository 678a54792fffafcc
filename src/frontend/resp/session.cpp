#include "frontend/resp/session.h"

#include <algorithm>

#include "frontend/resp/resp_knobs.h"
#include "runtime/scheduler.h"

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

// Starts reading the records of the command's keys (its key positions, as COMMAND INFO has them).
void prefetch_keys(KeyStore& store, const CommandSpec& spec, const std::vector<std::string>& command) {
  if (spec.first_key <= 0 || spec.key_step <= 0) return;
  const auto count = static_cast<int>(command.size());
  const int last = spec.last_key < 0 ? count + spec.last_key : std::min(spec.last_key, count - 1);
  for (int i = spec.first_key; i <= last; i += spec.key_step) store.prefetch(command[static_cast<size_t>(i)]);
}

}  // namespace

std::string error_reply_text(const Error& error) {
  switch (error.code()) {
    case errc::key_too_large: return "ERR key too large: KeelDB keys are at most 10000 bytes with the front end's prefix";
    case errc::value_too_large: return std::string(resp_errors::string_too_long);
    case errc::transaction_too_large: return "ERR transaction too large: a command or EXEC may write at most 10000000 bytes";
    default: return "ERR " + error.describe();
  }
}

Session::Session(RespServerState& server, NetworkAddress peer) : server_(server) {
  info_.id = server_.next_client_id++;
  info_.peer = peer;
  info_.connected_at = now();
  server_.sessions[info_.id] = this;
}

Session::~Session() { server_.sessions.erase(info_.id); }

Future<Void> Session::execute(std::vector<std::string> command, ReplyWriter& out) {
  KEEL_ASSERT(!command.empty());
  out.set_protocol(info_.protocol);
  ++server_.stats.commands_processed;
  const int errors_before = out.errors_written();
  const std::string name = lowercase(command[0]);
  const CommandSpec* spec = find_command(name);
  info_.last_command = spec != nullptr ? name : "NULL";
  if (in_multi_ && (spec == nullptr || (spec->flags & command_flags::session) == 0)) {
    queue(spec, std::move(command), out);
  } else if (spec == nullptr) {
    out.error(unknown_command_error(command));
  } else if (!arity_ok(*spec, command.size())) {
    out.error(wrong_arity_error(spec->name));
  } else if ((spec->flags & (command_flags::connection | command_flags::session)) != 0) {
    CommandContext context{*this, server_, command, out, nullptr};
    co_await spec->handler(context);
  } else {
    co_await run_in_transaction(*spec, command, out);
  }
  server_.stats.errors_replied += static_cast<uint64_t>(out.errors_written() - errors_before);
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
    if (batch.size() == 1) {
      Future<Void> done = execute(std::move(batch[0]), out);
      co_await done;
    } else if (!batch.empty()) {
      Future<Void> done = run_batch(specs, batch, out);
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
  if (spec == nullptr || !arity_ok(*spec, command.size())) return nullptr;
  constexpr uint32_t alone = command_flags::connection | command_flags::session | command_flags::unbatched;
  return (spec->flags & alone) == 0 ? spec : nullptr;
}

Future<Void> Session::run_batch(const std::vector<const CommandSpec*>& specs,
                                const std::vector<std::vector<std::string>>& commands, ReplyWriter& out) {
  KEEL_ASSERT(specs.size() == commands.size() && commands.size() > 1);
  out.set_protocol(info_.protocol);
  server_.stats.commands_processed += commands.size();
  info_.last_command = std::string(specs.back()->name);
  ReplyWriter attempt(out.protocol());
  auto body = [&](Transaction& transaction) -> Future<Void> {
    attempt = ReplyWriter(out.protocol());
    KeyStore store(transaction, server_.layout, wall_time_ms());
    for (size_t i = 0; i < commands.size(); ++i) prefetch_keys(store, *specs[i], commands[i]);
    for (size_t i = 0; i < commands.size(); ++i) {
      CommandContext context{*this, server_, commands[i], attempt, &store};
      co_await specs[i]->handler(context);
    }
    co_return Void{};
  };
  bool committed = false;
  try {
    co_await server_.database.run(body);
    committed = true;
  } catch (const Error&) {
    // Not retryable (a key, value or the whole batch too large): run each alone below.
  }
  if (committed) {
    out.append(attempt);
    server_.stats.errors_replied += static_cast<uint64_t>(attempt.errors_written());
    co_return Void{};
  }
  for (size_t i = 0; i < commands.size(); ++i) {
    const int errors_before = out.errors_written();
    Future<Void> done = run_in_transaction(*specs[i], commands[i], out);
    co_await done;
    server_.stats.errors_replied += static_cast<uint64_t>(out.errors_written() - errors_before);
  }
  co_return Void{};
}

void Session::queue(const CommandSpec* spec, std::vector<std::string> command, ReplyWriter& out) {
  if (spec == nullptr) {
    out.error(unknown_command_error(command));
    multi_failed_ = true;
  } else if (!arity_ok(*spec, command.size())) {
    out.error(wrong_arity_error(spec->name));
    multi_failed_ = true;
  } else if (queued_.size() >= static_cast<size_t>(resp_knobs().resp_multi_commands_max)) {
    out.error("ERR MULTI queue is full (the knob resp_multi_commands_max)");
    multi_failed_ = true;
  } else {
    queued_.push_back(std::move(command));
    out.simple("QUEUED");
  }
}

Future<Void> Session::run_in_transaction(const CommandSpec& spec, const std::vector<std::string>& command,
                                         ReplyWriter& out) {
  ReplyWriter attempt(out.protocol());
  auto body = [&](Transaction& transaction) -> Future<Void> {
    attempt.clear();
    KeyStore store(transaction, server_.layout, wall_time_ms());
    CommandContext context{*this, server_, command, attempt, &store};
    co_await spec.handler(context);
    co_return Void{};
  };
  try {
    co_await server_.database.run(body);
    out.append(attempt);
  } catch (const Error& error) {
    out.error(error_reply_text(error));
  }
  co_return Void{};
}

}  // namespace keel
