#include "frontend/resp/plain_reads.h"

#include <optional>
#include <string>

#include "frontend/resp/command_groups.h"
#include "frontend/resp/commands.h"
#include "frontend/resp/server_state.h"
#include "runtime/scheduler.h"

namespace keel {
namespace {

bool is_plain_read(const CommandSpec& spec) { return spec.name == "get" || spec.name == "mget"; }

// The string a record holds, or nullopt for a key absent or expired; false when the record is
// neither (the general path answers it).
bool string_of(const std::optional<Value>& bytes, int64_t now_ms, std::optional<std::string>* value) {
  value->reset();
  KeyRecord record = decode_record(bytes, now_ms);
  if (!record.alive()) return true;
  if (record.meta.type != KeyType::string) return false;
  *value = std::move(record.meta.value);
  return true;
}

// Every key of the runs' commands, in order.
std::vector<Key> record_keys(const KeyLayout& layout, const std::vector<GroupedRun*>& runs) {
  std::vector<Key> keys;
  for (const GroupedRun* run : runs) {
    for (const std::vector<std::string>& command : run->commands) {
      for (size_t i = 1; i < command.size(); ++i) keys.push_back(layout.meta_key(command[i]));
    }
  }
  return keys;
}

}  // namespace

bool only_plain_reads(const std::vector<GroupedRun*>& runs) {
  for (const GroupedRun* run : runs) {
    for (const CommandSpec* spec : run->specs) {
      if (!is_plain_read(*spec)) return false;
    }
  }
  return true;
}

Future<bool> serve_plain_reads(RespServerState& server, const std::vector<GroupedRun*>& runs) {
  std::vector<std::optional<Value>> records;
  auto read = [&](Transaction& transaction) -> Future<Void> {
    Future<std::vector<std::optional<Value>>> read_all = transaction.get_all(record_keys(server.layout, runs), true);
    records = co_await std::move(read_all);
    co_return Void{};
  };
  const double started = now();
  co_await server.database.run(read, Database::UnknownResult::fail);
  // What a handler counts: from its start to its end, the wait for its reads included.
  const double seconds = now() - started;

  const int64_t now_ms = wall_time_ms();
  std::vector<std::optional<std::string>> values(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    if (!string_of(records[i], now_ms, &values[i])) co_return false;
  }
  AttemptCounts counted;
  size_t next = 0;
  for (GroupedRun* run : runs) {
    run->replies = ReplyWriter(run->replies.protocol());
    for (size_t c = 0; c < run->commands.size(); ++c) {
      const size_t key_count = run->commands[c].size() - 1;
      if (run->specs[c]->name == "mget") run->replies.array(key_count);
      for (size_t k = 0; k < key_count; ++k, ++next) {
        ++(values[next] ? counted.lookups.hits : counted.lookups.misses);
        if (values[next]) {
          run->replies.bulk(*values[next]);
        } else {
          run->replies.null();
        }
      }
      CommandCounts command;
      command.calls = 1;
      command.seconds = seconds;
      counted.commands.emplace_back(run->specs[c], command);
    }
  }
  server.stats.add(counted);
  co_return true;
}

}  // namespace keel
