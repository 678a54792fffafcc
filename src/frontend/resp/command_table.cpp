#include "frontend/resp/commands.h"

#include <algorithm>
#include <map>

#include "frontend/resp/server_state.h"
#include "runtime/assert.h"

namespace keel {
namespace {

struct Table {
  std::vector<CommandSpec> specs;
  std::map<std::string_view, const CommandSpec*> by_name;
  std::vector<const CommandSpec*> ordered;

  Table() {
    for (auto family : {string_commands, bit_commands, key_commands, hash_commands, connection_commands,
                         server_commands, transaction_commands, introspection_commands}) {
      std::vector<CommandSpec> more = family();
      specs.insert(specs.end(), more.begin(), more.end());
    }
    for (const CommandSpec& spec : specs) {
      KEEL_ASSERT(spec.name == lowercase(spec.name));
      const bool inserted = by_name.emplace(spec.name, &spec).second;
      KEEL_ASSERT(inserted);
      ordered.push_back(&spec);
    }
    std::sort(ordered.begin(), ordered.end(), [](const CommandSpec* a, const CommandSpec* b) { return a->name < b->name; });
  }
};

const Table& table() {
  static const Table instance;
  return instance;
}

}  // namespace

const CommandSpec* find_command(std::string_view lowercase_name) {
  const auto& by_name = table().by_name;
  auto it = by_name.find(lowercase_name);
  return it == by_name.end() ? nullptr : it->second;
}

const std::vector<const CommandSpec*>& all_commands() { return table().ordered; }

namespace {

// Redis's convention: `arity` n means exactly n arguments, -n at least n (the names included).
bool arity_fits(int arity, size_t argument_count) {
  const auto count = static_cast<int>(argument_count);
  return arity >= 0 ? count == arity : count >= -arity;
}

}  // namespace

bool arity_ok(const CommandSpec& spec, size_t argument_count) { return arity_fits(spec.arity, argument_count); }

namespace {

struct SubcommandSpec {
  std::string_view name;  // lower case
  int arity;              // as CommandSpec's, the command and subcommand names included
};

// The subcommands each handler serves, with Redis's arities.
const std::map<std::string_view, std::vector<SubcommandSpec>>& subcommand_table() {
  static const std::map<std::string_view, std::vector<SubcommandSpec>> table = {
      {"client",
       {{"setname", 3}, {"getname", 2}, {"id", 2}, {"info", 2}, {"list", -2}, {"kill", -3}, {"setinfo", 4},
        {"no-evict", 3}, {"no-touch", 3}, {"help", 2}}},
      {"command", {{"count", 2}, {"docs", -2}, {"info", -2}, {"list", -2}, {"getkeys", -3}}},
      {"config", {{"get", -3}, {"set", -4}, {"resetstat", 2}, {"rewrite", 2}}},
      {"function", {{"flush", -2}, {"list", -2}}},
      {"latency", {{"latest", 2}, {"history", 3}, {"reset", -2}, {"doctor", 2}}},
      {"memory", {{"usage", -3}}},
      {"object", {{"encoding", 3}, {"refcount", 3}, {"idletime", 3}, {"freq", 3}, {"help", 2}}},
      {"script", {{"flush", -2}, {"exists", -3}, {"load", 3}}},
      {"slowlog", {{"get", -2}, {"len", 2}, {"reset", 2}}},
  };
  return table;
}

std::string uppercase(std::string_view text) {
  std::string result(text);
  for (char& c : result) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return result;
}

}  // namespace

std::string subcommand_error(const CommandSpec& spec, const std::vector<std::string>& command) {
  const auto& table = subcommand_table();
  const auto subcommands = table.find(spec.name);
  if (subcommands == table.end() || command.size() < 2) return {};
  const std::string name = lowercase(command[1]);
  for (const SubcommandSpec& sub : subcommands->second) {
    if (sub.name != name) continue;
    return arity_fits(sub.arity, command.size()) ? std::string() : wrong_arity_error(std::string(spec.name) + "|" + name);
  }
  return "ERR unknown subcommand '" + command[1] + "'. Try " + uppercase(spec.name) + " HELP.";
}

Future<Void> run_command(const CommandSpec& spec, CommandContext& context) {
  AttemptCounts* attempt = context.attempt;
  const bool lookups_counted = attempt != nullptr && context.store != nullptr && (spec.flags & command_flags::lookups) != 0;
  if (lookups_counted) context.store->count_lookups(&attempt->lookups);
  const int errors_before = context.out.errors_written();
  const double start = now();
  co_await spec.handler(context);
  if (lookups_counted) context.store->count_lookups(nullptr);
  CommandCounts run;
  run.calls = 1;
  run.seconds = now() - start;
  run.failed_calls = context.out.errors_written() > errors_before ? 1 : 0;
  if (attempt != nullptr) {
    attempt->commands.emplace_back(&spec, run);
  } else {
    context.server.stats.add(&spec, run);
  }
  co_return Void{};
}

Future<Void> run_data_transaction(RespServerState& server,
                                  std::function<Future<Void>(Transaction&, AttemptCounts&)> body) {
  AttemptCounts counted;
  auto attempt = [&](Transaction& transaction) {
    counted = AttemptCounts{};
    return body(transaction, counted);
  };
  co_await server.database.run(attempt, Database::UnknownResult::fail);
  server.stats.add(counted);
  co_return Void{};
}

void count_lookup(CommandContext& context, bool found) {
  KeyLookupCounts& counts = context.attempt != nullptr ? context.attempt->lookups : context.server.stats.key_lookups;
  ++(found ? counts.hits : counts.misses);
}

size_t prefetch_command_keys(KeyStore& store, const CommandSpec& spec, const std::vector<std::string>& command) {
  size_t keys = 0;
  for_each_command_key(spec, command, [&](const std::string& key) {
    store.prefetch(key);
    ++keys;
  });
  return keys;
}

std::string lowercase(std::string_view text) {
  std::string result(text);
  for (char& c : result) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return result;
}

bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string wrong_arity_error(std::string_view command_name) {
  return "ERR wrong number of arguments for '" + lowercase(command_name) + "' command";
}

namespace {

char fold(char c, bool ignore_case) {
  return ignore_case && c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// Matches a [...] class at pattern[p] (just after '['); advances p past ']'.
bool match_class(std::string_view pattern, size_t& p, char c, bool ignore_case) {
  bool negate = false;
  if (p < pattern.size() && pattern[p] == '^') {
    negate = true;
    ++p;
  }
  bool matched = false;
  while (p < pattern.size() && pattern[p] != ']') {
    if (pattern[p] == '\\' && p + 1 < pattern.size()) {
      ++p;
      if (fold(pattern[p], ignore_case) == fold(c, ignore_case)) matched = true;
      ++p;
    } else if (p + 2 < pattern.size() && pattern[p + 1] == '-' && pattern[p + 2] != ']') {
      char low = fold(pattern[p], ignore_case);
      char high = fold(pattern[p + 2], ignore_case);
      if (low > high) std::swap(low, high);
      const char folded = fold(c, ignore_case);
      if (folded >= low && folded <= high) matched = true;
      p += 3;
    } else {
      if (fold(pattern[p], ignore_case) == fold(c, ignore_case)) matched = true;
      ++p;
    }
  }
  if (p < pattern.size()) ++p;  // ']'
  return matched != negate;
}

// Iterative glob with one backtrack point per '*' (linear in practice, no recursion).
bool glob_from(std::string_view pattern, std::string_view text, bool ignore_case) {
  size_t p = 0;
  size_t t = 0;
  size_t star_p = std::string_view::npos;
  size_t star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size()) {
      const char pc = pattern[p];
      if (pc == '*') {
        while (p < pattern.size() && pattern[p] == '*') ++p;
        if (p == pattern.size()) return true;
        star_p = p;
        star_t = t;
        continue;
      }
      if (pc == '?') {
        ++p;
        ++t;
        continue;
      }
      if (pc == '[') {
        size_t q = p + 1;
        if (match_class(pattern, q, text[t], ignore_case)) {
          p = q;
          ++t;
          continue;
        }
      } else {
        size_t q = p;
        char expected = pc;
        if (pc == '\\' && p + 1 < pattern.size()) expected = pattern[++q];
        if (fold(expected, ignore_case) == fold(text[t], ignore_case)) {
          p = q + 1;
          ++t;
          continue;
        }
      }
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p;
    t = ++star_t;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view text, bool ignore_case) {
  return glob_from(pattern, text, ignore_case);
}

}  // namespace keel

namespace keel {

Future<std::vector<KeyValue>> read_whole_range(Transaction& transaction, KeyRange range) {
  std::vector<KeyValue> rows;
  while (!range.empty()) {
    RangeResult page = co_await transaction.get_range(range, 1000);
    for (KeyValue& row : page.rows) rows.push_back(std::move(row));
    if (!page.more || rows.empty()) break;
    range.begin = key_after(rows.back().key);
  }
  co_return rows;
}

void put_string(CommandContext& c, const std::string& key, const KeyRecord& old, std::string value, int64_t expire_ms) {
  KeyMeta meta;
  meta.type = KeyType::string;
  meta.expire_ms = expire_ms;
  meta.value = std::move(value);
  c.store->write(key, old, meta);
}

bool integer_argument(CommandContext& context, size_t index, int64_t& value) {
  if (parse_int64(context.args[index], value)) return true;
  context.out.error(resp_errors::not_integer);
  return false;
}

std::optional<ScanPosition> scan_position(CommandContext& context, size_t index) {
  ScanCursorLookup lookup = context.server.scan_cursors.decode(context.args[index]);
  switch (lookup.status) {
    case ScanCursorLookup::Status::ok: return std::move(lookup.position);
    case ScanCursorLookup::Status::expired:
      context.out.error("ERR cursor expired: this front end keeps only its most recently used cursors of long keys "
                        "(the knob resp_scan_cursors_max); scan again from 0");
      return std::nullopt;
    case ScanCursorLookup::Status::invalid: break;
  }
  context.out.error("ERR invalid cursor");
  return std::nullopt;
}

bool expiry_deadline(CommandContext& context, std::string_view unit, std::string_view number, int64_t& deadline_ms) {
  int64_t amount = 0;
  if (!parse_int64(number, amount)) {
    context.out.error(resp_errors::not_integer);
    return false;
  }
  const std::string invalid = "ERR invalid expire time in '" + lowercase(context.args[0]) + "' command";
  const bool seconds = equals_ignore_case(unit, "ex") || equals_ignore_case(unit, "exat");
  const bool absolute = equals_ignore_case(unit, "exat") || equals_ignore_case(unit, "pxat");
  if (amount <= 0 || (seconds && amount > INT64_MAX / 1000)) {
    context.out.error(invalid);
    return false;
  }
  const int64_t milliseconds = seconds ? amount * 1000 : amount;
  if (absolute) {
    deadline_ms = milliseconds;
    return true;
  }
  const int64_t now_ms = context.store->now_ms();
  if (milliseconds > INT64_MAX - now_ms) {
    context.out.error(invalid);
    return false;
  }
  deadline_ms = now_ms + milliseconds;
  return true;
}

}  // namespace keel
