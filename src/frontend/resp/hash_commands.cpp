// Hash commands. A hash is a metadata record holding its field count, and one key per field
// under the hash's prefix (keyspace.h), so a large hash costs one key per field and no more.
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "frontend/resp/commands.h"
#include "frontend/resp/scan_cursor.h"
#include "frontend/resp/server_state.h"
#include "runtime/random.h"

namespace keel {
namespace {

using namespace resp_errors;

// Loads the key; writes WRONGTYPE and returns false if it holds something other than a hash.
Future<bool> load_hash(CommandContext& c, KeyRecord& record) {
  record = co_await c.store->load(c.args[1]);
  if (record.alive() && record.meta.type != KeyType::hash) {
    c.out.error(wrong_type);
    co_return false;
  }
  co_return true;
}

Future<std::vector<KeyValue>> all_fields(CommandContext& c) {
  return read_whole_range(c.store->transaction(), c.store->layout().fields_range(c.args[1]));
}

// Writes the hash's record with `fields` fields (removing the key when none are left).
void store_hash(CommandContext& c, const KeyRecord& record, int64_t fields) {
  if (fields == 0) {
    c.store->remove(c.args[1], record);
    return;
  }
  KeyMeta meta;
  meta.type = KeyType::hash;
  meta.hash_fields = fields;
  meta.expire_ms = record.alive() ? record.meta.expire_ms : 0;
  c.store->write(c.args[1], record, meta);
}

bool field_value_fits(CommandContext& c, size_t bytes) {
  if (bytes <= value_bytes_max) return true;
  c.out.error(fmt::format("ERR string exceeds maximum allowed size (a KeelDB hash field's value holds at most {} bytes)",
                          value_bytes_max));
  return false;
}

// Whether the field written at args[index] fits in a KeelDB key beside the hash's key; false
// (error written) otherwise. Redis has no such limit.
bool field_fits(CommandContext& c, size_t index) {
  const size_t bytes_max = c.store->layout().field_bytes_max(c.args[1]);
  if (c.args[index].size() <= bytes_max) return true;
  c.out.error(fmt::format("ERR hash field too large: with this key, a KeelDB hash field is at most {} bytes "
                          "(a key, its field and the front end's prefix take at most {} bytes)",
                          bytes_max, key_bytes_max));
  return false;
}

// HSET key field value [field value ...], HMSET (replies OK).
Future<Void> hset(CommandContext& c) {
  if (c.args.size() % 2 != 0) {
    c.out.error(wrong_arity_error(c.args[0]));
    co_return Void{};
  }
  for (size_t i = 3; i < c.args.size(); i += 2) {
    if (!field_value_fits(c, c.args[i].size()) || !field_fits(c, i - 1)) co_return Void{};
  }
  KeyRecord record;
  const bool hash_or_missing = co_await load_hash(c, record);
  if (!hash_or_missing) co_return Void{};
  std::map<std::string, std::string> updates;  // the last value of a field named twice wins
  for (size_t i = 2; i < c.args.size(); i += 2) updates[c.args[i]] = c.args[i + 1];
  int64_t added = 0;
  if (record.alive()) {
    std::vector<Future<std::optional<Value>>> reads;
    for (const auto& [field, value] : updates) reads.push_back(c.store->get_field(c.args[1], field));
    for (auto& read : reads) {
      if (!(co_await read)) ++added;
    }
  } else {
    added = static_cast<int64_t>(updates.size());
  }
  store_hash(c, record, (record.alive() ? record.meta.hash_fields : 0) + added);
  for (const auto& [field, value] : updates) c.store->set_field(c.args[1], field, value);
  if (lowercase(c.args[0]) == "hmset") {
    c.out.ok();
  } else {
    c.out.integer(added);
  }
  co_return Void{};
}

Future<Void> hsetnx(CommandContext& c) {
  if (!field_value_fits(c, c.args[3].size()) || !field_fits(c, 2)) co_return Void{};
  KeyRecord record;
  const bool hash_or_missing = co_await load_hash(c, record);
  if (!hash_or_missing) co_return Void{};
  if (record.alive()) {
    std::optional<Value> existing = co_await c.store->get_field(c.args[1], c.args[2]);
    if (existing) {
      c.out.integer(0);
      co_return Void{};
    }
  }
  store_hash(c, record, (record.alive() ? record.meta.hash_fields : 0) + 1);
  c.store->set_field(c.args[1], c.args[2], c.args[3]);
  c.out.integer(1);
  co_return Void{};
}

Future<Void> hget(CommandContext& c) {
  KeyRecord record;
  const bool hash_or_missing = co_await load_hash(c, record);
  if (!hash_or_missing) co_return Void{};
  std::optional<Value> value;
  if (record.alive()) value = co_await c.store->get_field(c.args[1], c.args[2]);
  c.out.bulk_or_null(value);
  co_return Void{};
}

Future<Void> hmget(CommandContext& c) {
  KeyRecord record;
  const bool hash_or_missing = co_await load_hash(c, record);
  if (!hash_or_missing) co_return Void{};
  c.out.array(c.args.size() - 2);
  std::vector<Future<std::optional<Value>>> reads;
  if (record.alive()) {
    for (size_t i = 2; i < c.args.size(); ++i) reads.push_back(c.store->get_field(c.args[1], c.args[i]));
  }
  for (size_t i = 2; i < c.args.size(); ++i) {
    std::optional<Value> value;
    if (record.alive()) value = co_await reads[i - 2];
    c.out.bulk_or_null(value);
  }
  co_return Void{};
}

Future<Void> hdel(CommandContext& c) {
  KeyRecord record;
  const bool hash_or_missing = co_await load_hash(c, record);
  if (!hash_or_missing) co_return Void{};
  if (!record.alive()) {
    c.out.integer(0);
    co_return Void{};
  }
  const std::set<std::string> fields(c.args.begin() + 2, c.args.end());
  std::vector<std::pair<std::string, Future<std::optional<Value>>>> reads;
  for (const std::string& field : fields) reads.emplace_back(field, c.store->get_field(c.args[1], field));
  int64_t removed = 0;
  for (auto& [field, read] : reads) {
    if (!(co_await read)) continue;
    c.store->clear_field(c.args[1], field);
    ++removed;
  }
  if (removed > 0) store_hash(c, record, record.meta.hash_fields - removed);
  c.out.integer(removed);
  co_return Void{};
}

// HGETALL, HKEYS, HVALS.
Future<Void> hgetall(CommandContext& c) {
  const std::string name = lowercase(c.args[0]);
  KeyRecord record;
  const bool hash_or_missing = co_await load_hash(c, record);
  if (!hash_or_missing) co_return Void{};
  std::vector<KeyValue> fields;
  if (record.alive()) fields = co_await all_fields(c);
  if (name == "hgetall") {
    c.out.map(fields.size());
  } else {
    c.out.array(fields.size());
  }
  for (const KeyValue& field : fields) {
    if (name != "hvals") c.out.bulk(c.store->layout().field_of(c.args[1], field.key));
    if (name != "hkeys") c.out.bulk(field.value);
  }
  co_return Void{};
}

Future<Void> hexists(CommandContext& c) {
  KeyRecord record;
  const bool hash_or_missing = co_await load_hash(c, record);
  if (!hash_or_missing) co_return Void{};
  std::optional<Value> value;
  if (record.alive()) value = co_await c.store->get_field(c.args[1], c.args[2]);
  c.out.integer(value ? 1 : 0);
  co_return Void{};
}

Future<Void> hlen(CommandContext& c) {
  KeyRecord record;
  const bool hash_or_missing = co_await load_hash(c, record);
  if (!hash_or_missing) co_return Void{};
  c.out.integer(record.alive() ? record.meta.hash_fields : 0);
  co_return Void{};
}

Future<Void> hstrlen(CommandContext& c) {
  KeyRecord record;
  const bool hash_or_missing = co_await load_hash(c, record);
  if (!hash_or_missing) co_return Void{};
  std::optional<Value> value;
  if (record.alive()) value = co_await c.store->get_field(c.args[1], c.args[2]);
  c.out.integer(value ? static_cast<int64_t>(value->size()) : 0);
  co_return Void{};
}

// Stores a new value of one field (adding the field if it is new).
void put_field(CommandContext& c, const KeyRecord& record, bool existed, const std::string& value) {
  if (!existed || !record.alive()) store_hash(c, record, (record.alive() ? record.meta.hash_fields : 0) + 1);
  else c.store->touch(c.args[1], record);
  c.store->set_field(c.args[1], c.args[2], value);
}

Future<Void> hincrby(CommandContext& c) {
  int64_t delta = 0;
  if (!integer_argument(c, 3, delta) || !field_fits(c, 2)) co_return Void{};
  KeyRecord record;
  const bool hash_or_missing = co_await load_hash(c, record);
  if (!hash_or_missing) co_return Void{};
  std::optional<Value> existing;
  if (record.alive()) existing = co_await c.store->get_field(c.args[1], c.args[2]);
  int64_t value = 0;
  if (existing && !parse_int64(*existing, value)) {
    c.out.error("ERR hash value is not an integer");
    co_return Void{};
  }
  if ((delta > 0 && value > INT64_MAX - delta) || (delta < 0 && value < INT64_MIN - delta)) {
    c.out.error(overflow);
    co_return Void{};
  }
  value += delta;
  put_field(c, record, existing.has_value(), std::to_string(value));
  c.out.integer(value);
  co_return Void{};
}

Future<Void> hincrbyfloat(CommandContext& c) {
  long double delta = 0;
  if (!parse_long_double(c.args[3], delta)) {
    c.out.error(not_float);
    co_return Void{};
  }
  if (std::isinf(delta)) {  // Redis rejects an infinite increment before reading the field
    c.out.error("ERR value is NaN or Infinity");
    co_return Void{};
  }
  if (!field_fits(c, 2)) co_return Void{};
  KeyRecord record;
  const bool hash_or_missing = co_await load_hash(c, record);
  if (!hash_or_missing) co_return Void{};
  std::optional<Value> existing;
  if (record.alive()) existing = co_await c.store->get_field(c.args[1], c.args[2]);
  long double value = 0;
  if (existing && !parse_long_double(*existing, value)) {
    c.out.error("ERR hash value is not a float");
    co_return Void{};
  }
  value += delta;
  if (std::isnan(value) || std::isinf(value)) {
    c.out.error(nan_or_infinity);
    co_return Void{};
  }
  const std::string text = format_long_double(value);
  put_field(c, record, existing.has_value(), text);
  c.out.bulk(text);
  co_return Void{};
}

// The most fields HRANDFIELD with a negative count answers.
constexpr int64_t random_fields_repeated_max = 1'000'000;

// HRANDFIELD key [count [WITHVALUES]]
Future<Void> hrandfield(CommandContext& c) {
  int64_t count = 0;
  const bool has_count = c.args.size() >= 3;
  const bool with_values = c.args.size() == 4 && equals_ignore_case(c.args[3], "withvalues");
  if (c.args.size() > 4 || (c.args.size() == 4 && !with_values)) {
    c.out.error(syntax);
    co_return Void{};
  }
  if (has_count && !integer_argument(c, 2, count)) co_return Void{};
  // A negative count repeats fields as often as it asks: Redis builds any size of reply, we
  // refuse one past random_fields_repeated_max rather than truncate it.
  if (has_count && count < -random_fields_repeated_max) {
    c.out.error(fmt::format("ERR value is out of range: with a negative count KeelDB returns at most {} fields",
                            random_fields_repeated_max));
    co_return Void{};
  }
  KeyRecord record;
  const bool hash_or_missing = co_await load_hash(c, record);
  if (!hash_or_missing) co_return Void{};
  std::vector<KeyValue> fields;
  if (record.alive()) fields = co_await all_fields(c);
  const KeyLayout& layout = c.store->layout();
  DeterministicRandom& random = deterministic_random();
  if (!has_count) {
    if (fields.empty()) {
      c.out.null();
    } else {
      c.out.bulk(layout.field_of(c.args[1], fields[static_cast<size_t>(random.random_int(0, static_cast<int64_t>(fields.size())))].key));
    }
    co_return Void{};
  }
  std::vector<size_t> chosen;
  if (count >= 0) {
    std::vector<size_t> order(fields.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[static_cast<size_t>(random.random_int(0, static_cast<int64_t>(i)))]);
    order.resize(std::min(order.size(), static_cast<size_t>(count)));
    chosen = std::move(order);
  } else if (!fields.empty()) {
    const auto wanted = static_cast<size_t>(-count);
    for (size_t i = 0; i < wanted; ++i) chosen.push_back(static_cast<size_t>(random.random_int(0, static_cast<int64_t>(fields.size()))));
  }
  if (with_values && c.out.protocol() >= 3) {
    c.out.array(chosen.size());
    for (size_t index : chosen) {
      c.out.array(2);
      c.out.bulk(layout.field_of(c.args[1], fields[index].key));
      c.out.bulk(fields[index].value);
    }
    co_return Void{};
  }
  c.out.array(chosen.size() * (with_values ? 2 : 1));
  for (size_t index : chosen) {
    c.out.bulk(layout.field_of(c.args[1], fields[index].key));
    if (with_values) c.out.bulk(fields[index].value);
  }
  co_return Void{};
}

// HSCAN key cursor [MATCH pattern] [COUNT count] [NOVALUES]
Future<Void> hscan(CommandContext& c) {
  std::optional<ScanPosition> position = scan_position(c, 2);
  if (!position) co_return Void{};
  std::string pattern;
  int64_t count = 10;
  bool no_values = false;
  for (size_t i = 3; i < c.args.size(); ++i) {
    const std::string option = lowercase(c.args[i]);
    if (option == "novalues") {
      no_values = true;
    } else if (option == "match" && i + 1 < c.args.size()) {
      pattern = c.args[++i];
    } else if (option == "count" && i + 1 < c.args.size()) {
      if (!integer_argument(c, ++i, count)) co_return Void{};
      if (count < 1) {
        c.out.error(syntax);
        co_return Void{};
      }
    } else {
      c.out.error(syntax);
      co_return Void{};
    }
  }
  KeyRecord record;
  const bool hash_or_missing = co_await load_hash(c, record);
  if (!hash_or_missing) co_return Void{};
  const KeyLayout& layout = c.store->layout();
  const KeyRange fields = layout.fields_range(c.args[1]);
  RangeResult page;
  if (record.alive()) {
    const KeySelector begin = position->start ? KeySelector::first_greater_or_equal(fields.begin)
                                              : KeySelector::first_greater_than(layout.field_key(c.args[1], position->last_key));
    const KeySelector end = KeySelector::first_greater_or_equal(fields.end);
    page = co_await c.store->transaction().get_range(begin, end, static_cast<int>(std::min<int64_t>(count, 10'000)));
  }
  c.out.array(2);
  c.out.bulk(page.more && !page.rows.empty() ? c.server.scan_cursors.encode(layout.field_of(c.args[1], page.rows.back().key)) : "0");
  std::vector<std::pair<std::string, std::string>> matched;
  for (KeyValue& row : page.rows) {
    std::string field = layout.field_of(c.args[1], row.key);
    if (!pattern.empty() && !glob_match(pattern, field)) continue;
    matched.emplace_back(std::move(field), std::move(row.value));
  }
  c.out.array(matched.size() * (no_values ? 1 : 2));
  for (const auto& [field, value] : matched) {
    c.out.bulk(field);
    if (!no_values) c.out.bulk(value);
  }
  co_return Void{};
}

}  // namespace

std::vector<CommandSpec> hash_commands() {
  constexpr uint32_t write = command_flags::write;
  constexpr uint32_t readonly = command_flags::readonly;
  return {
      {"hset", -4, write, 1, 1, 1, hset},
      {"hmset", -4, write, 1, 1, 1, hset},
      {"hsetnx", 4, write, 1, 1, 1, hsetnx},
      {"hget", 3, readonly | command_flags::lookups, 1, 1, 1, hget},
      {"hmget", -3, readonly | command_flags::lookups, 1, 1, 1, hmget},
      {"hdel", -3, write, 1, 1, 1, hdel},
      {"hgetall", 2, readonly | command_flags::unbatched | command_flags::lookups, 1, 1, 1, hgetall},
      {"hkeys", 2, readonly | command_flags::unbatched | command_flags::lookups, 1, 1, 1, hgetall},
      {"hvals", 2, readonly | command_flags::unbatched | command_flags::lookups, 1, 1, 1, hgetall},
      {"hexists", 3, readonly | command_flags::lookups, 1, 1, 1, hexists},
      {"hlen", 2, readonly | command_flags::lookups, 1, 1, 1, hlen},
      {"hstrlen", 3, readonly | command_flags::lookups, 1, 1, 1, hstrlen},
      {"hincrby", 4, write, 1, 1, 1, hincrby},
      {"hincrbyfloat", 4, write, 1, 1, 1, hincrbyfloat},
      {"hrandfield", -2, readonly | command_flags::unbatched | command_flags::lookups, 1, 1, 1, hrandfield},
      {"hscan", -3, readonly | command_flags::unbatched | command_flags::lookups, 1, 1, 1, hscan},
  };
}

}  // namespace keel
