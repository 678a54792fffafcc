// Server commands: INFO, CONFIG (config_command.cpp), COMMAND, FUNCTION FLUSH, and the scripting
// commands (which the front end does not run, with a clear error).
#include <sys/resource.h>
#include <unistd.h>

#include <fmt/format.h>

#include "frontend/resp/resp_knobs.h"
#include "frontend/resp/session.h"
#include "runtime/scheduler.h"
#include "world/world.h"

namespace keel {
namespace {

using namespace resp_errors;

struct KeyCounts {
  int64_t keys = 0;
  int64_t expiring = 0;      // keys with a deadline
  int64_t average_ttl_ms = 0;  // over the expiring keys (INFO's avg_ttl)
};

// Counts live keys and keys with a deadline, in pages of one transaction.
Future<KeyCounts> count_keys(KeyStore& store) {
  int64_t keys = 0;
  int64_t expiring = 0;
  double ttl_ms_sum = 0;
  KeyRange range = store.layout().meta_range();
  while (true) {
    RangeResult page = co_await store.transaction().get_range(range, 1000);
    for (const KeyValue& row : page.rows) {
      const KeyMeta meta = decode_meta(row.value);
      if (meta.expire_ms != 0 && meta.expire_ms <= store.now_ms()) continue;
      ++keys;
      if (meta.expire_ms == 0) continue;
      ++expiring;
      ttl_ms_sum += static_cast<double>(meta.expire_ms - store.now_ms());
    }
    if (!page.more || page.rows.empty()) break;
    range.begin = key_after(page.rows.back().key);
  }
  co_return KeyCounts{keys, expiring, expiring == 0 ? 0 : static_cast<int64_t>(ttl_ms_sum / static_cast<double>(expiring))};
}

// Redis's INFO form of a size: "1.50M".
std::string human_bytes(int64_t bytes) {
  constexpr std::string_view units = "BKMGTP";
  auto value = static_cast<double>(bytes);
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < units.size()) {
    value /= 1024;
    ++unit;
  }
  return unit == 0 ? fmt::format("{}B", bytes) : fmt::format("{:.2f}{}", value, units[unit]);
}

bool wants(const std::vector<std::string>& sections, std::string_view name, bool in_default) {
  if (sections.empty()) return in_default;
  for (const std::string& section : sections) {
    if (section == name || section == "all" || section == "everything" || (section == "default" && in_default)) return true;
  }
  return false;
}

// INFO commandstats: every command run since the start (or CONFIG RESETSTAT), by name.
std::string command_stats(const RespStats& stats) {
  std::map<std::string_view, const CommandCounts*> by_name;
  for (const auto& [spec, counts] : stats.commands) by_name[spec->name] = &counts;
  std::string text = "# Commandstats\r\n";
  for (const auto& [name, counts] : by_name) {
    const auto usec = static_cast<uint64_t>(counts->seconds * 1e6);
    text += fmt::format("cmdstat_{}:calls={},usec={},usec_per_call={:.2f},rejected_calls={},failed_calls={}\r\n", name,
                        counts->calls, usec,
                        counts->calls == 0 ? 0.0 : static_cast<double>(usec) / static_cast<double>(counts->calls),
                        counts->rejected_calls, counts->failed_calls);
  }
  return text + "\r\n";
}

// INFO [section ...]
Future<Void> info(CommandContext& c) {
  std::vector<std::string> sections;
  for (size_t i = 1; i < c.args.size(); ++i) sections.push_back(lowercase(c.args[i]));
  const RespServerState& server = c.server;
  std::string text;
  if (wants(sections, "server", true)) {
    text += fmt::format(
        "# Server\r\nredis_version:7.2.0\r\nredis_mode:standalone\r\nserver_name:keeldb\r\nos:Linux\r\n"
        "arch_bits:64\r\nprocess_id:{}\r\ntcp_port:{}\r\nuptime_in_seconds:{}\r\nuptime_in_days:{}\r\n"
        "executable:keel\r\n\r\n",
        static_cast<int64_t>(::getpid()), server.address.port, static_cast<int64_t>(now() - server.start_time),
        static_cast<int64_t>((now() - server.start_time) / 86400));
  }
  if (wants(sections, "clients", true)) {
    text += fmt::format("# Clients\r\nconnected_clients:{}\r\nmaxclients:{}\r\nblocked_clients:0\r\n\r\n",
                        server.sessions.size(), server.connections_max);
  }
  if (wants(sections, "memory", true)) {
    // The process's resident heap: the whole server's (its roles and caches), not the keyspace's
    // alone, which lives in the cluster's storage servers.
    const int64_t used = world().process_memory().used_bytes;
    text += fmt::format(
        "# Memory\r\nused_memory:{0}\r\nused_memory_human:{1}\r\nused_memory_rss:{0}\r\n"
        "used_memory_rss_human:{1}\r\nmaxmemory:0\r\nmaxmemory_human:0B\r\nmaxmemory_policy:noeviction\r\n\r\n",
        used, human_bytes(used));
  }
  if (wants(sections, "cpu", true)) {
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    auto seconds = [](const timeval& time) { return static_cast<double>(time.tv_sec) + static_cast<double>(time.tv_usec) / 1e6; };
    text += fmt::format("# CPU\r\nused_cpu_sys:{:.6f}\r\nused_cpu_user:{:.6f}\r\n\r\n", seconds(usage.ru_stime),
                        seconds(usage.ru_utime));
  }
  if (wants(sections, "persistence", true)) {
    text += "# Persistence\r\nloading:0\r\naof_enabled:1\r\nrdb_changes_since_last_save:0\r\n\r\n";
  }
  if (wants(sections, "stats", true)) {
    const RespStats& s = server.stats;
    text += fmt::format(
        "# Stats\r\ntotal_connections_received:{}\r\ntotal_commands_processed:{}\r\ninstantaneous_ops_per_sec:0\r\n"
        "total_net_input_bytes:{}\r\ntotal_net_output_bytes:{}\r\nrejected_connections:{}\r\nexpired_keys:{}\r\n"
        "evicted_keys:0\r\nkeyspace_hits:{}\r\nkeyspace_misses:{}\r\ntotal_error_replies:{}\r\n"
        "total_protocol_errors:{}\r\nkeel_command_groups:{}\r\nkeel_grouped_runs:{}\r\nkeel_group_waits:{}\r\n"
        "keel_group_waits_expired:{}\r\nkeel_group_retries:{}\r\nkeel_group_key_waits:{}\r\n\r\n",
        s.connections_received, s.commands_processed, s.net_input_bytes, s.net_output_bytes, s.connections_rejected,
        s.expired_keys, s.key_lookups.hits, s.key_lookups.misses, s.errors_replied, s.protocol_errors, s.command_groups,
        s.grouped_runs, s.group_waits, s.group_waits_expired, s.group_retries, s.group_key_waits);
  }
  if (wants(sections, "replication", true)) text += "# Replication\r\nrole:master\r\nconnected_slaves:0\r\n\r\n";
  if (wants(sections, "commandstats", false)) text += command_stats(server.stats);
  if (wants(sections, "errorstats", true)) {
    text += "# Errorstats\r\n";
    for (const auto& [code, count] : server.stats.error_codes) text += fmt::format("errorstat_{}:count={}\r\n", code, count);
    text += "\r\n";
  }
  if (wants(sections, "keyspace", true)) {
    const KeyCounts counts = co_await count_keys(*c.store);
    text += "# Keyspace\r\n";
    if (counts.keys > 0) {
      text += fmt::format("db0:keys={},expires={},avg_ttl={}\r\n", counts.keys, counts.expiring, counts.average_ttl_ms);
    }
  }
  c.out.verbatim(text);
  co_return Void{};
}

void command_info(ReplyWriter& out, const CommandSpec& spec) {
  out.array(10);
  out.bulk(spec.name);
  out.integer(spec.arity);
  std::vector<std::string_view> flags;
  if (spec.flags & command_flags::write) flags.push_back("write");
  if (spec.flags & command_flags::readonly) flags.push_back("readonly");
  if (spec.flags & command_flags::fast) flags.push_back("fast");
  if (spec.flags & (command_flags::connection | command_flags::session)) flags.push_back("loading");
  out.set(flags.size());
  for (std::string_view flag : flags) out.simple(flag);
  out.integer(spec.first_key);
  out.integer(spec.last_key);
  out.integer(spec.key_step);
  out.set(0);    // ACL categories
  out.array(0);  // tips
  out.array(0);  // key specs
  out.array(0);  // subcommands
}

// Whether a command names its keys by a count after the script (EVAL, EVALSHA, FCALL and their
// read-only forms), not by positions.
bool takes_numkeys(const CommandSpec& spec) {
  return spec.name.starts_with("eval") || spec.name.starts_with("fcall");
}

// COMMAND GETKEYS name [arg...]: the keys of that command line, by its key positions.
void command_getkeys(CommandContext& c) {
  const std::vector<std::string> line(c.args.begin() + 2, c.args.end());
  const CommandSpec* spec = find_command(lowercase(line[0]));
  if (spec == nullptr) {
    c.out.error("ERR Invalid command specified");
    return;
  }
  std::vector<std::string> keys;
  if (takes_numkeys(*spec) && arity_ok(*spec, line.size())) {
    // EVAL script numkeys key... arg...: the keys follow the count. These commands may name no
    // key, so Redis answers a count that is not a number, negative or past the arguments with
    // no keys (an empty list), not an error.
    int64_t count = 0;
    if (!parse_int64(line[2], count) || count < 0 || static_cast<uint64_t>(count) > line.size() - 3) count = 0;
    c.out.array(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) c.out.bulk(line[3 + static_cast<size_t>(i)]);
    return;
  }
  if (arity_ok(*spec, line.size())) {
    for_each_command_key(*spec, line, [&](const std::string& key) { keys.push_back(key); });
  }
  if (keys.empty()) {  // as Redis 7.0 answers a line of the wrong length, or of no keys
    c.out.error(wrong_arity_error("command|getkeys"));
    return;
  }
  c.out.array(keys.size());
  for (const std::string& key : keys) c.out.bulk(key);
}

Future<Void> command(CommandContext& c) {
  const std::vector<const CommandSpec*>& commands = all_commands();
  if (c.args.size() == 1) {
    c.out.array(commands.size());
    for (const CommandSpec* spec : commands) command_info(c.out, *spec);
    return Void{};
  }
  const std::string sub = lowercase(c.args[1]);
  if (sub == "count" && c.args.size() == 2) {
    c.out.integer(static_cast<int64_t>(commands.size()));
  } else if (sub == "info") {
    if (c.args.size() == 2) {
      c.out.array(commands.size());
      for (const CommandSpec* spec : commands) command_info(c.out, *spec);
      return Void{};
    }
    c.out.array(c.args.size() - 2);
    for (size_t i = 2; i < c.args.size(); ++i) {
      const CommandSpec* spec = find_command(lowercase(c.args[i]));
      if (spec == nullptr) {
        c.out.null_array();
      } else {
        command_info(c.out, *spec);
      }
    }
  } else if (sub == "docs") {
    std::vector<const CommandSpec*> chosen;
    if (c.args.size() == 2) {
      chosen = commands;
    } else {
      for (size_t i = 2; i < c.args.size(); ++i) {
        const CommandSpec* spec = find_command(lowercase(c.args[i]));
        if (spec != nullptr) chosen.push_back(spec);
      }
    }
    c.out.map(chosen.size());
    for (const CommandSpec* spec : chosen) {
      c.out.bulk(spec->name);
      c.out.map(2);
      c.out.bulk("summary");
      c.out.bulk("A Redis command served by KeelDB");
      c.out.bulk("since");
      c.out.bulk("1.0.0");
    }
  } else if (sub == "list" && c.args.size() == 2) {
    c.out.array(commands.size());
    for (const CommandSpec* spec : commands) c.out.bulk(spec->name);
  } else if (sub == "getkeys" && c.args.size() >= 3) {
    command_getkeys(c);
  } else {
    c.out.error("ERR unknown subcommand '" + c.args[1] + "'. Try COMMAND HELP.");
  }
  return Void{};
}

Future<Void> function(CommandContext& c) {
  const std::string sub = lowercase(c.args[1]);
  if (sub == "flush" && c.args.size() <= 3) {
    c.out.ok();
  } else if (sub == "list") {
    c.out.array(0);
  } else {
    c.out.error("ERR unknown subcommand '" + c.args[1] + "'. Try FUNCTION HELP.");
  }
  return Void{};
}

Future<Void> eval(CommandContext& c) {
  c.out.error("ERR " + lowercase(c.args[0]) +
              " is not supported: KeelDB's Redis front end runs no scripts; use MULTI/EXEC (serializable) instead");
  return Void{};
}

Future<Void> evalsha(CommandContext& c) {
  c.out.error("NOSCRIPT No matching script. Please use EVAL.");
  return Void{};
}

Future<Void> script(CommandContext& c) {
  const std::string sub = lowercase(c.args[1]);
  if (sub == "flush") {
    c.out.ok();
  } else if (sub == "exists") {
    c.out.array(c.args.size() - 2);
    for (size_t i = 2; i < c.args.size(); ++i) c.out.integer(0);
  } else if (sub == "load") {
    c.out.error("ERR script load is not supported: KeelDB's Redis front end runs no scripts");
  } else {
    c.out.error("ERR unknown subcommand '" + c.args[1] + "'. Try SCRIPT HELP.");
  }
  return Void{};
}

// SAVE, BGSAVE [SCHEDULE] and LASTSAVE: every acknowledged write is already durable in the
// cluster's logs, so there is nothing to save, and the last save is now.
Future<Void> save(CommandContext& c) {
  if (lowercase(c.args[0]) == "save") {
    c.out.ok();
  } else if (c.args.size() > 2 || (c.args.size() == 2 && !equals_ignore_case(c.args[1], "schedule"))) {
    c.out.error(resp_errors::syntax);
  } else {
    c.out.simple("Background saving started");
  }
  return Void{};
}

Future<Void> lastsave(CommandContext& c) {
  c.out.integer(wall_time_ms() / 1000);
  return Void{};
}

// WAIT numreplicas timeout and WAITAOF numlocal numreplicas timeout: a write is acknowledged
// only once the cluster's logs hold it durably (its replication is below the front end), so
// nothing is left to wait for: WAIT answers 0 Redis replicas at once, WAITAOF 1 local sync and 0
// replicas. Redis would wait out the timeout when asked for more replicas than it has.
// The arguments are checked in order, with Redis's texts: WAITAOF's numlocal is 0 or 1, its
// numreplicas at least 0; the timeout (last) at least 0.
Future<Void> wait_for_replicas(CommandContext& c) {
  const bool aof = lowercase(c.args[0]) == "waitaof";
  for (size_t i = 1; i < c.args.size(); ++i) {
    const bool timeout = i + 1 == c.args.size();
    int64_t number = 0;
    std::string_view problem;
    if (!parse_int64(c.args[i], number)) {
      problem = timeout ? "ERR timeout is not an integer or out of range" : resp_errors::not_integer;
    } else if (timeout && number < 0) {
      problem = "ERR timeout is negative";
    } else if (aof && i == 1 && (number < 0 || number > 1)) {
      problem = "ERR value is out of range, value must between 0 and 1";
    } else if (aof && i == 2 && number < 0) {
      problem = "ERR value is out of range, must be positive";
    }
    if (!problem.empty()) {
      c.out.error(problem);
      return Void{};
    }
  }
  if (aof) {
    c.out.array(2);
    c.out.integer(1);
    c.out.integer(0);
  } else {
    c.out.integer(0);
  }
  return Void{};
}

// ROLE: a primary with no replicas (replication is the cluster's, below the front end).
Future<Void> role(CommandContext& c) {
  c.out.array(3);
  c.out.bulk("master");
  c.out.integer(0);
  c.out.array(0);
  return Void{};
}

// SLOWLOG and LATENCY: the front end keeps no such logs, so they are empty (keel cli status
// and the trace hold the cluster's latencies).
Future<Void> slowlog(CommandContext& c) {
  const std::string sub = lowercase(c.args[1]);
  if (sub == "get") {
    c.out.array(0);
  } else if (sub == "len") {
    c.out.integer(0);
  } else if (sub == "reset") {
    c.out.ok();
  } else {
    c.out.error("ERR unknown subcommand '" + c.args[1] + "'. Try SLOWLOG HELP.");
  }
  return Void{};
}

Future<Void> latency(CommandContext& c) {
  const std::string sub = lowercase(c.args[1]);
  if (sub == "latest" || sub == "history") {
    c.out.array(0);
  } else if (sub == "reset") {
    c.out.integer(0);
  } else if (sub == "doctor") {
    c.out.bulk("KeelDB's Redis front end keeps no latency events: see `keel cli status` for the cluster's latencies.");
  } else {
    c.out.error("ERR unknown subcommand '" + c.args[1] + "'. Try LATENCY HELP.");
  }
  return Void{};
}

}  // namespace

std::vector<CommandSpec> server_commands() {
  constexpr uint32_t connection = command_flags::connection;
  return {
      {"info", -1, command_flags::readonly | command_flags::unbatched, 0, 0, 0, info},
      {"config", -2, connection, 0, 0, 0, config_command},
      {"command", -1, connection, 0, 0, 0, command},
      {"function", -2, connection, 0, 0, 0, function},
      {"eval", -3, connection, 0, 0, 0, eval},
      {"eval_ro", -3, connection, 0, 0, 0, eval},
      {"fcall", -3, connection, 0, 0, 0, eval},
      {"evalsha", -3, connection, 0, 0, 0, evalsha},
      {"evalsha_ro", -3, connection, 0, 0, 0, evalsha},
      {"script", -2, connection, 0, 0, 0, script},
      {"role", 1, connection, 0, 0, 0, role},
      {"save", 1, connection, 0, 0, 0, save},
      {"wait", 3, connection, 0, 0, 0, wait_for_replicas},
      {"waitaof", 4, connection, 0, 0, 0, wait_for_replicas},
      {"bgsave", -1, connection, 0, 0, 0, save},
      {"lastsave", 1, connection | command_flags::fast, 0, 0, 0, lastsave},
      {"slowlog", -2, connection, 0, 0, 0, slowlog},
      {"latency", -2, connection, 0, 0, 0, latency},
  };
}

}  // namespace keel
