#include "frontend/resp/command_groups.h"

#include <algorithm>
#include <functional>
#include <string>
#include <unordered_set>

#include "frontend/resp/commands.h"
#include "frontend/resp/plain_reads.h"
#include "frontend/resp/server_state.h"
#include "frontend/resp/session.h"
#include "runtime/scheduler.h"

namespace keel {
namespace {

// Runs start_groups() looks at when forming a group (past runs that wait for keys).
constexpr size_t waiting_looked_max = 1024;

}  // namespace

CommandGroups::CommandGroups(RespServerState& server)
    : server_(server), gathering_(resp_knobs().resp_group_gather_fraction) {}

Future<bool> CommandGroups::run(std::shared_ptr<GroupedRun> run) {
  Future<bool> done = run->done.get_future();
  run->key_hashes.clear();
  for (size_t i = 0; i < run->commands.size(); ++i) {
    for_each_command_key(*run->specs[i], run->commands[i],
                         [&](const std::string& key) { run->key_hashes.push_back(std::hash<std::string>{}(key)); });
  }
  waiting_.push_back(std::move(run));
  quiet_since_ = now();
  start_groups();
  return done;
}

void CommandGroups::start_groups() {
  const auto commands_max = static_cast<size_t>(resp_knobs().resp_group_commands_max);
  const auto bytes_max = static_cast<size_t>(resp_knobs().resp_batch_bytes_max);
  while (!waiting_.empty() && in_flight_ < static_cast<int>(resp_knobs().resp_groups_in_flight_max)) {
    if (gathering_.should_wait(waiting_.size())) {
      if (!gather_timer_) {
        gather_timer_ = true;
        quiet_since_ = now();
        ++server_.stats.group_waits;
        groups_.add(end_gathering(gather_round_, now() + gathering_.wait_seconds()));
      }
      return;
    }
    std::vector<std::shared_ptr<GroupedRun>> group;
    size_t commands = 0;
    size_t bytes = 0;
    // Looks a bounded way past runs that wait for a running group's keys, so many connections
    // of one hot key cost each start little. A run passed over holds its keys' places too: a
    // later run of one of them waits behind it, so a run of two hot keys is not overtaken
    // forever by runs of one.
    size_t looked = 0;
    std::unordered_set<size_t> passed_over;
    for (auto next = waiting_.begin(); next != waiting_.end() && looked < waiting_looked_max; ++looked) {
      const GroupedRun& run = **next;
      const bool fits = commands + run.commands.size() <= commands_max && bytes + run.argument_bytes <= bytes_max;
      if (!group.empty() && !fits) break;
      const bool behind = std::any_of(run.key_hashes.begin(), run.key_hashes.end(),
                                      [&](size_t hash) { return passed_over.contains(hash); });
      if (in_flight_ > 0 && (behind || waits_for_key(run))) {
        passed_over.insert(run.key_hashes.begin(), run.key_hashes.end());
        ++server_.stats.group_key_waits;
        ++next;
        continue;
      }
      commands += run.commands.size();
      bytes += run.argument_bytes;
      group.push_back(std::move(*next));
      next = waiting_.erase(next);
    }
    if (group.empty()) return;  // each run looked at waits for a running group's key
    for (const std::shared_ptr<GroupedRun>& run : group) hold_keys(*run, +1);
    gathering_.took(group.size());
    ++gather_round_;
    gather_timer_ = false;
    ++in_flight_;
    groups_.add(run_group(std::move(group)));
  }
}

Future<Void> CommandGroups::run_group(std::vector<std::shared_ptr<GroupedRun>> group) {
  const double started = now();
  std::vector<GroupedRun*> runs;
  for (const std::shared_ptr<GroupedRun>& run : group) {
    run->shared = group.size() > 1;
    runs.push_back(run.get());
  }
  bool committed = false;
  try {
    co_await run_together(server_, runs);
    committed = true;
    ++server_.stats.command_groups;
    server_.stats.grouped_runs += group.size();
  } catch (const Error& error) {
    // Not retryable (a key, a value or the whole group too large): each run goes alone. But a
    // commit that may have been applied cannot run again: every command answers the error.
    if (error.code() == errc::commit_unknown_result) {
      for (GroupedRun* run : runs) answer_every_command(server_, *run, error);
      committed = true;
    }
  }
  --in_flight_;
  for (const std::shared_ptr<GroupedRun>& run : group) hold_keys(*run, -1);
  gathering_.answered(group.size(), now() - started);
  for (const std::shared_ptr<GroupedRun>& run : group) run->done.send(committed);
  start_groups();
  co_return Void{};
}

bool CommandGroups::waits_for_key(const GroupedRun& run) const {
  return std::any_of(run.key_hashes.begin(), run.key_hashes.end(), [&](size_t hash) { return held_keys_.contains(hash); });
}

void CommandGroups::hold_keys(const GroupedRun& run, int change) {
  for (size_t hash : run.key_hashes) {
    auto [it, added] = held_keys_.try_emplace(hash, 0);
    it->second += change;
    if (it->second == 0) held_keys_.erase(it);
  }
}

// Ends the wait of `round` at `deadline`, or earlier once runs stop arriving for a pause.
Future<Void> CommandGroups::end_gathering(uint64_t round, double deadline) {
  auto ends = [&] { return std::min(deadline, quiet_since_ + gathering_.pause_seconds()); };
  while (now() < ends()) {
    co_await delay(ends() - now());
    if (round != gather_round_) co_return Void{};  // a group started meanwhile
  }
  gathering_.gave_up();
  gather_timer_ = false;
  ++server_.stats.group_waits_expired;
  start_groups();
  co_return Void{};
}

void answer_every_command(RespServerState& server, GroupedRun& run, const Error& error) {
  run.replies = ReplyWriter(run.replies.protocol());
  for (size_t i = 0; i < run.commands.size(); ++i) {
    run.replies.error(error_reply_text(error));
    server.stats.add_failed_call(run.specs[i]);
  }
}

Future<Void> run_together(RespServerState& server, const std::vector<GroupedRun*>& runs) {
  if (only_plain_reads(runs)) {
    const bool answered = co_await serve_plain_reads(server, runs);
    if (answered) co_return Void{};
  }
  bool again = false;
  auto body = [&](Transaction& transaction, AttemptCounts& counted) -> Future<Void> {
    if (again) ++server.stats.group_retries;
    again = true;
    KeyStore store(transaction, server.layout, wall_time_ms());
    size_t keys = 0;
    for (GroupedRun* run : runs) {
      run->replies = ReplyWriter(run->replies.protocol());
      for (size_t i = 0; i < run->commands.size(); ++i) keys += prefetch_command_keys(store, *run->specs[i], run->commands[i]);
    }
    transaction.reserve(keys);  // a write of each key and a read conflict, mostly
    for (GroupedRun* run : runs) {
      for (size_t i = 0; i < run->commands.size(); ++i) {
        CommandContext context{*run->session, server, run->commands[i], run->replies, &store, &counted};
        co_await run_command(*run->specs[i], context);
      }
    }
    co_return Void{};
  };
  co_await run_data_transaction(server, body);
  co_return Void{};
}

}  // namespace keel
