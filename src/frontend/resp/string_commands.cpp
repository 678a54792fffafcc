// String commands: GET, SET and its variants, MGET/MSET, APPEND, ranges, counters, LCS.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "frontend/resp/commands.h"
#include "frontend/resp/lcs.h"
#include "frontend/resp/server_state.h"

namespace keel {
namespace {

using namespace resp_errors;

// Writes the string's value, or null, or WRONGTYPE; true if the key holds no other type.
bool reply_string(CommandContext& c, const KeyRecord& record) {
  if (!record.alive()) {
    c.out.null();
    return true;
  }
  if (record.meta.type != KeyType::string) {
    c.out.error(wrong_type);
    return false;
  }
  c.out.bulk(record.meta.value);
  return true;
}

// Writes a string that does not depend on the key's old value: see KeyStore::overwrite.
Future<Void> overwrite_string(CommandContext& c, const std::string& key, const std::string& value, int64_t expire_ms) {
  KeyRecord old = co_await c.store->load_snapshot(key);
  KeyMeta meta;
  meta.type = KeyType::string;
  meta.expire_ms = expire_ms;
  meta.value = value;
  c.store->overwrite(key, old, meta);
  co_return Void{};
}

// Whether a string may be `bytes` long where it was `current_bytes` long (else an error reply).
bool value_fits(CommandContext& c, size_t bytes, size_t current_bytes = 0) {
  if (string_size_allowed(bytes, current_bytes)) return true;
  c.out.error(string_too_long);
  return false;
}

Future<Void> get(CommandContext& c) {
  KeyRecord record = co_await c.store->load(c.args[1]);
  reply_string(c, record);
  co_return Void{};
}

struct SetOptions {
  bool nx = false;
  bool xx = false;
  bool get = false;
  bool keep_ttl = false;
  bool has_expiry = false;
  int64_t deadline_ms = 0;
};

// Parses SET's options from args[3]; false when an error was written.
bool parse_set_options(CommandContext& c, SetOptions& options) {
  const auto& args = c.args;
  std::string expiry_option;
  for (size_t i = 3; i < args.size(); ++i) {
    const std::string option = lowercase(args[i]);
    const bool has_next = i + 1 < args.size();
    if (option == "nx" && !options.xx) {
      options.nx = true;
    } else if (option == "xx" && !options.nx) {
      options.xx = true;
    } else if (option == "get") {
      options.get = true;
    } else if (option == "keepttl" && !options.has_expiry) {
      options.keep_ttl = true;
    } else if ((option == "ex" || option == "px" || option == "exat" || option == "pxat") && has_next &&
               (!options.has_expiry || option == expiry_option) && !options.keep_ttl) {
      // As Redis: one of the four, named again, is no conflict (the last deadline stands).
      if (!expiry_deadline(c, option, args[i + 1], options.deadline_ms)) return false;
      options.has_expiry = true;
      expiry_option = option;
      ++i;
    } else {
      c.out.error(syntax);
      return false;
    }
  }
  return true;
}

Future<Void> set(CommandContext& c) {
  SetOptions options;
  if (!parse_set_options(c, options) || !value_fits(c, c.args[2].size())) co_return Void{};
  const std::string& key = c.args[1];
  if (!options.nx && !options.xx && !options.get && !options.keep_ttl &&
      (!options.has_expiry || options.deadline_ms > c.store->now_ms())) {
    co_await overwrite_string(c, key, c.args[2], options.has_expiry ? options.deadline_ms : 0);
    c.out.ok();
    co_return Void{};
  }
  KeyRecord record = co_await c.store->load(key);
  if (options.get) count_lookup(c, record.alive());  // as GET's
  if (options.get && record.alive() && record.meta.type != KeyType::string) {
    c.out.error(wrong_type);
    co_return Void{};
  }
  const bool apply = !(options.nx && record.alive()) && !(options.xx && !record.alive());
  if (options.get) {
    reply_string(c, record);
  } else if (apply) {
    c.out.ok();
  } else {
    c.out.null();
  }
  if (!apply) co_return Void{};
  if (options.has_expiry && options.deadline_ms <= c.store->now_ms()) {
    c.store->remove(key, record, record.alive());  // set and expired at once
    co_return Void{};
  }
  int64_t deadline = options.has_expiry ? options.deadline_ms : 0;
  if (options.keep_ttl && record.alive()) deadline = record.meta.expire_ms;
  put_string(c, key, record, c.args[2], deadline);
  co_return Void{};
}

Future<Void> setnx(CommandContext& c) {
  if (!value_fits(c, c.args[2].size())) co_return Void{};
  KeyRecord record = co_await c.store->load(c.args[1]);
  if (record.alive()) {
    c.out.integer(0);
    co_return Void{};
  }
  put_string(c, c.args[1], record, c.args[2], 0);
  c.out.integer(1);
  co_return Void{};
}

// SETEX key seconds value, PSETEX key milliseconds value.
Future<Void> setex(CommandContext& c) {
  const std::string unit = lowercase(c.args[0]) == "setex" ? "ex" : "px";
  int64_t deadline = 0;
  if (!expiry_deadline(c, unit, c.args[2], deadline) || !value_fits(c, c.args[3].size())) co_return Void{};
  if (deadline <= c.store->now_ms()) {  // a deadline of 1 ms may have passed already
    KeyRecord record = co_await c.store->load(c.args[1]);
    c.store->remove(c.args[1], record, record.alive());
  } else {
    co_await overwrite_string(c, c.args[1], c.args[3], deadline);
  }
  c.out.ok();
  co_return Void{};
}

Future<Void> getset(CommandContext& c) {
  if (!value_fits(c, c.args[2].size())) co_return Void{};
  KeyRecord record = co_await c.store->load(c.args[1]);
  if (!reply_string(c, record)) co_return Void{};
  put_string(c, c.args[1], record, c.args[2], 0);
  co_return Void{};
}

Future<Void> getdel(CommandContext& c) {
  KeyRecord record = co_await c.store->load(c.args[1]);
  if (!reply_string(c, record) || !record.alive()) co_return Void{};
  c.store->remove(c.args[1], record);
  co_return Void{};
}

// GETEX key [EX s | PX ms | EXAT t | PXAT t | PERSIST]
// As Redis 7 checks: the options' syntax, then the key (nil if missing, WRONGTYPE), then the
// expiry's value.
Future<Void> getex(CommandContext& c) {
  bool persist = false;
  std::string unit;  // of the expiry, at args[expiry_at]
  size_t expiry_at = 0;
  for (size_t i = 2; i < c.args.size(); ++i) {
    const std::string option = lowercase(c.args[i]);
    if (option == "persist" && expiry_at == 0 && !persist) {
      persist = true;
    } else if ((option == "ex" || option == "px" || option == "exat" || option == "pxat") && i + 1 < c.args.size() &&
               expiry_at == 0 && !persist) {
      unit = option;
      expiry_at = ++i;
    } else {
      c.out.error(syntax);
      co_return Void{};
    }
  }
  KeyRecord record = co_await c.store->load(c.args[1]);
  const bool has_expiry = expiry_at != 0;
  int64_t deadline = 0;
  if (has_expiry && record.is(KeyType::string) && !expiry_deadline(c, unit, c.args[expiry_at], deadline)) co_return Void{};
  if (!reply_string(c, record) || !record.alive()) co_return Void{};
  if (has_expiry && deadline <= c.store->now_ms()) {
    c.store->remove(c.args[1], record);
  } else if (has_expiry || (persist && record.meta.expire_ms != 0)) {
    KeyMeta meta = record.meta;
    meta.expire_ms = has_expiry ? deadline : 0;
    c.store->write(c.args[1], record, meta);
  }
  co_return Void{};
}

Future<Void> mget(CommandContext& c) {
  std::vector<Future<KeyRecord>> loads;
  for (size_t i = 1; i < c.args.size(); ++i) loads.push_back(c.store->load(c.args[i]));
  c.out.array(loads.size());
  for (Future<KeyRecord>& load : loads) {
    KeyRecord record = co_await std::move(load);
    if (record.is(KeyType::string)) {
      c.out.bulk(record.meta.value);
    } else {
      c.out.null();
    }
  }
  co_return Void{};
}

// MSET and MSETNX.
Future<Void> mset(CommandContext& c) {
  const bool only_new = lowercase(c.args[0]) == "msetnx";
  if (c.args.size() % 2 != 1) {
    c.out.error(wrong_arity_error(c.args[0]));
    co_return Void{};
  }
  for (size_t i = 2; i < c.args.size(); i += 2) {
    if (!value_fits(c, c.args[i].size())) co_return Void{};
  }
  if (!only_new) {  // in order: a key named twice gets its last value
    std::vector<Future<KeyRecord>> olds;
    for (size_t i = 1; i < c.args.size(); i += 2) olds.push_back(c.store->load_snapshot(c.args[i]));
    std::set<std::string> written;
    for (size_t i = 1; i < c.args.size(); i += 2) {
      KeyRecord old = co_await std::move(olds[i / 2]);
      KeyMeta meta;
      meta.value = c.args[i + 1];
      // A key named again: the record this command wrote is what it overwrites.
      if (!written.insert(c.args[i]).second) old = co_await c.store->load_snapshot(c.args[i]);
      c.store->overwrite(c.args[i], old, meta);
    }
    c.out.ok();
    co_return Void{};
  }
  std::vector<Future<KeyRecord>> loads;
  for (size_t i = 1; i < c.args.size(); i += 2) loads.push_back(c.store->load(c.args[i]));
  std::vector<KeyRecord> records;
  for (Future<KeyRecord>& load : loads) records.push_back(co_await std::move(load));
  if (only_new) {
    const bool any_alive = std::any_of(records.begin(), records.end(), [](const KeyRecord& r) { return r.alive(); });
    if (any_alive) {
      c.out.integer(0);
      co_return Void{};
    }
  }
  // A key named twice: the last value wins, written over the record as stored.
  std::map<std::string, size_t> last;
  for (size_t i = 1; i < c.args.size(); i += 2) last[c.args[i]] = i;
  for (const auto& [key, index] : last) {
    const size_t record_index = (index - 1) / 2;
    size_t first = record_index;
    for (size_t j = 0; j < records.size(); ++j) {
      if (c.args[1 + 2 * j] == key) {
        first = j;
        break;
      }
    }
    put_string(c, key, records[first], c.args[index + 1], 0);
  }
  if (only_new) {
    c.out.integer(1);
  } else {
    c.out.ok();
  }
  co_return Void{};
}

Future<Void> append(CommandContext& c) {
  KeyRecord record = co_await c.store->load(c.args[1]);
  if (record.alive() && record.meta.type != KeyType::string) {
    c.out.error(wrong_type);
    co_return Void{};
  }
  std::string value = record.alive() ? record.meta.value : std::string();
  if (!value_fits(c, value.size() + c.args[2].size(), value.size())) co_return Void{};
  value += c.args[2];
  const int64_t length = static_cast<int64_t>(value.size());
  put_string(c, c.args[1], record, std::move(value), record.alive() ? record.meta.expire_ms : 0);
  c.out.integer(length);
  co_return Void{};
}

Future<Void> strlen(CommandContext& c) {
  KeyRecord record = co_await c.store->load(c.args[1]);
  if (record.alive() && record.meta.type != KeyType::string) {
    c.out.error(wrong_type);
  } else {
    c.out.integer(record.alive() ? static_cast<int64_t>(record.meta.value.size()) : 0);
  }
  co_return Void{};
}

Future<Void> getrange(CommandContext& c) {
  int64_t start = 0;
  int64_t end = 0;
  if (!integer_argument(c, 2, start) || !integer_argument(c, 3, end)) co_return Void{};
  KeyRecord record = co_await c.store->load(c.args[1]);
  if (record.alive() && record.meta.type != KeyType::string) {
    c.out.error(wrong_type);
    co_return Void{};
  }
  const std::string empty;
  const std::string& value = record.alive() ? record.meta.value : empty;
  const auto length = static_cast<int64_t>(value.size());
  if (start < 0 && end < 0 && start > end) {
    c.out.bulk("");
    co_return Void{};
  }
  if (start < 0) start = std::max<int64_t>(length + start, 0);
  if (end < 0) end = std::max<int64_t>(length + end, 0);
  end = std::min(end, length - 1);
  if (length == 0 || start > end) {
    c.out.bulk("");
  } else {
    c.out.bulk(std::string_view(value).substr(static_cast<size_t>(start), static_cast<size_t>(end - start + 1)));
  }
  co_return Void{};
}

Future<Void> setrange(CommandContext& c) {
  int64_t offset = 0;
  if (!integer_argument(c, 2, offset)) co_return Void{};
  if (offset < 0) {
    c.out.error("ERR offset is out of range");
    co_return Void{};
  }
  const std::string& patch = c.args[3];
  KeyRecord record = co_await c.store->load(c.args[1]);
  if (record.alive() && record.meta.type != KeyType::string) {
    c.out.error(wrong_type);
    co_return Void{};
  }
  std::string value = record.alive() ? record.meta.value : std::string();
  if (patch.empty()) {
    c.out.integer(static_cast<int64_t>(value.size()));
    co_return Void{};
  }
  if (!value_fits(c, static_cast<uint64_t>(offset) + patch.size(), value.size())) co_return Void{};
  const auto at = static_cast<size_t>(offset);
  if (value.size() < at + patch.size()) value.resize(at + patch.size(), '\0');
  value.replace(at, patch.size(), patch);
  const auto length = static_cast<int64_t>(value.size());
  put_string(c, c.args[1], record, std::move(value), record.alive() ? record.meta.expire_ms : 0);
  c.out.integer(length);
  co_return Void{};
}

// INCR, DECR, INCRBY, DECRBY.
Future<Void> incr(CommandContext& c) {
  const std::string name = lowercase(c.args[0]);
  int64_t delta = 1;
  if (name == "incrby" || name == "decrby") {
    if (!integer_argument(c, 2, delta)) co_return Void{};
  }
  if (name == "decrby" && delta == INT64_MIN) {
    c.out.error("ERR decrement would overflow");
    co_return Void{};
  }
  if (name == "decr" || name == "decrby") delta = -delta;
  KeyRecord record = co_await c.store->load(c.args[1]);
  if (record.alive() && record.meta.type != KeyType::string) {
    c.out.error(wrong_type);
    co_return Void{};
  }
  int64_t value = 0;
  if (record.alive() && !parse_int64(record.meta.value, value)) {
    c.out.error(not_integer);
    co_return Void{};
  }
  if ((delta > 0 && value > INT64_MAX - delta) || (delta < 0 && value < INT64_MIN - delta)) {
    c.out.error(overflow);
    co_return Void{};
  }
  value += delta;
  put_string(c, c.args[1], record, std::to_string(value), record.alive() ? record.meta.expire_ms : 0);
  c.out.integer(value);
  co_return Void{};
}

Future<Void> incrbyfloat(CommandContext& c) {
  long double delta = 0;
  if (!parse_long_double(c.args[2], delta)) {
    c.out.error(not_float);
    co_return Void{};
  }
  KeyRecord record = co_await c.store->load(c.args[1]);
  if (record.alive() && record.meta.type != KeyType::string) {
    c.out.error(wrong_type);
    co_return Void{};
  }
  long double value = 0;
  if (record.alive() && !parse_long_double(record.meta.value, value)) {
    c.out.error(not_float);
    co_return Void{};
  }
  value += delta;
  if (std::isnan(value) || std::isinf(value)) {
    c.out.error(nan_or_infinity);
    co_return Void{};
  }
  std::string text = format_long_double(value);
  c.out.bulk(text);
  put_string(c, c.args[1], record, std::move(text), record.alive() ? record.meta.expire_ms : 0);
  co_return Void{};
}

struct LcsOptions {
  bool length = false;   // LEN
  bool matches = false;  // IDX
  bool with_match_length = false;
  int64_t match_length_min = 0;
};

// Parses LCS's options from args[3]; false when an error was written.
bool parse_lcs_options(CommandContext& c, LcsOptions& options) {
  for (size_t i = 3; i < c.args.size(); ++i) {
    const std::string option = lowercase(c.args[i]);
    if (option == "idx") {
      options.matches = true;
    } else if (option == "len") {
      options.length = true;
    } else if (option == "withmatchlen") {
      options.with_match_length = true;
    } else if (option == "minmatchlen" && i + 1 < c.args.size()) {
      if (!integer_argument(c, i + 1, options.match_length_min)) return false;
      ++i;
    } else {
      c.out.error(syntax);
      return false;
    }
  }
  if (options.length && options.matches) {
    c.out.error("ERR If you want both the length and indexes, please just use IDX.");
    return false;
  }
  return true;
}

void reply_lcs_matches(CommandContext& c, const LcsResult& result, const LcsOptions& options) {
  const auto long_enough = [&](const LcsMatch& match) { return match.length() >= options.match_length_min; };
  c.out.map(2);
  c.out.bulk("matches");
  c.out.array(static_cast<size_t>(std::count_if(result.matches.begin(), result.matches.end(), long_enough)));
  for (const LcsMatch& match : result.matches) {
    if (!long_enough(match)) continue;
    c.out.array(options.with_match_length ? 3 : 2);
    c.out.array(2);
    c.out.integer(match.a_first);
    c.out.integer(match.a_last);
    c.out.array(2);
    c.out.integer(match.b_first);
    c.out.integer(match.b_last);
    if (options.with_match_length) c.out.integer(match.length());
  }
  c.out.bulk("len");
  c.out.integer(static_cast<int64_t>(result.common.size()));
}

// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN]: the longest common subsequence of
// two strings (a missing key is empty), its length, or its matched ranges. Its table (lcs.h) is
// bounded by lcs_table_cells_max; beyond it, an error.
Future<Void> lcs(CommandContext& c) {
  Future<KeyRecord> load_first = c.store->load(c.args[1]);
  Future<KeyRecord> load_second = c.store->load(c.args[2]);
  const KeyRecord first = co_await std::move(load_first);
  const KeyRecord second = co_await std::move(load_second);
  const auto holds_other_type = [](const KeyRecord& r) { return r.alive() && r.meta.type != KeyType::string; };
  if (holds_other_type(first) || holds_other_type(second)) {
    c.out.error("ERR The specified keys must contain string values");
    co_return Void{};
  }
  LcsOptions options;
  if (!parse_lcs_options(c, options)) co_return Void{};
  const std::string_view a = first.alive() ? std::string_view(first.meta.value) : std::string_view();
  const std::string_view b = second.alive() ? std::string_view(second.meta.value) : std::string_view();
  if (lcs_table_cells(a, b) > lcs_table_cells_max) {
    c.out.error(fmt::format("ERR Insufficient memory, transient memory for LCS exceeds KeelDB's limit: (length of the "
                            "first string + 1) x (length of the second + 1) must be at most {}",
                            lcs_table_cells_max));
    co_return Void{};
  }
  const LcsResult result = longest_common_subsequence(a, b);
  if (options.matches) {
    reply_lcs_matches(c, result, options);
  } else if (options.length) {
    c.out.integer(static_cast<int64_t>(result.common.size()));
  } else {
    c.out.bulk(result.common);
  }
  co_return Void{};
}

}  // namespace

std::vector<CommandSpec> string_commands() {
  constexpr uint32_t write = command_flags::write;
  constexpr uint32_t readonly = command_flags::readonly;
  return {
      {"get", 2, readonly | command_flags::fast | command_flags::lookups, 1, 1, 1, get},
      {"set", -3, write, 1, 1, 1, set},
      {"setnx", 3, write, 1, 1, 1, setnx},
      {"setex", 4, write, 1, 1, 1, setex},
      {"psetex", 4, write, 1, 1, 1, setex},
      {"getset", 3, write | command_flags::lookups, 1, 1, 1, getset},
      {"getdel", 2, write | command_flags::lookups, 1, 1, 1, getdel},
      {"getex", -2, write | command_flags::lookups, 1, 1, 1, getex},
      {"mget", -2, readonly | command_flags::lookups, 1, -1, 1, mget},
      {"mset", -3, write, 1, -1, 2, mset},
      {"msetnx", -3, write, 1, -1, 2, mset},
      {"append", 3, write, 1, 1, 1, append},
      {"strlen", 2, readonly | command_flags::lookups, 1, 1, 1, strlen},
      {"getrange", 4, readonly | command_flags::lookups, 1, 1, 1, getrange},
      {"substr", 4, readonly | command_flags::lookups, 1, 1, 1, getrange},
      {"setrange", 4, write, 1, 1, 1, setrange},
      {"incr", 2, write, 1, 1, 1, incr},
      {"decr", 2, write, 1, 1, 1, incr},
      {"incrby", 3, write, 1, 1, 1, incr},
      {"decrby", 3, write, 1, 1, 1, incr},
      {"incrbyfloat", 3, write, 1, 1, 1, incrbyfloat},
      // Unbatched: a pipeline of LCS commands near the table limit would take seconds in one transaction.
      {"lcs", -3, readonly | command_flags::unbatched | command_flags::lookups, 1, 2, 1, lcs},
  };
}

}  // namespace keel
