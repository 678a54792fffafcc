// Key commands: DEL, EXISTS, TYPE, KEYS, SCAN, RANDOMKEY, RENAME, COPY, DBSIZE, FLUSH*, and
// expiry (EXPIRE family, TTL family, PERSIST).
#include <set>

#include "frontend/resp/commands.h"
#include "frontend/resp/resp_knobs.h"
#include "frontend/resp/scan_cursor.h"
#include "frontend/resp/server_state.h"
#include "runtime/random.h"

namespace keel {
namespace {

using namespace resp_errors;

std::string_view type_name(KeyType type) {
  switch (type) {
    case KeyType::string: return "string";
    case KeyType::hash: return "hash";
    case KeyType::invalid: break;
  }
  return "invalid";
}

std::string_view type_name(const KeyRecord& record) { return record.alive() ? type_name(record.meta.type) : "none"; }

Future<Void> del(CommandContext& c) {
  const std::set<std::string> keys(c.args.begin() + 1, c.args.end());
  std::vector<std::pair<std::string, Future<KeyRecord>>> loads;
  for (const std::string& key : keys) loads.emplace_back(key, c.store->load_any(key));
  int64_t removed = 0;
  for (auto& [key, load] : loads) {
    KeyRecord record = co_await std::move(load);
    if (record.alive()) ++removed;
    c.store->remove(key, record, record.alive());
  }
  c.out.integer(removed);
  co_return Void{};
}

Future<Void> exists(CommandContext& c) {
  std::vector<Future<KeyRecord>> loads;
  for (size_t i = 1; i < c.args.size(); ++i) loads.push_back(c.store->load_any(c.args[i]));
  int64_t count = 0;
  for (Future<KeyRecord>& load : loads) {
    KeyRecord record = co_await std::move(load);
    if (record.alive()) ++count;
  }
  c.out.integer(count);
  co_return Void{};
}

Future<Void> type(CommandContext& c) {
  KeyRecord record = co_await c.store->load(c.args[1]);
  c.out.simple(type_name(record));
  co_return Void{};
}

// The records of live keys in [begin, end of the key space), at most `limit` rows read.
struct KeyPage {
  std::vector<std::pair<std::string, KeyMeta>> keys;  // live ones only (and those of type invalid)
  std::string last_key;  // the last key read (live or not)
  bool more = false;
};

Future<KeyPage> read_keys(KeyStore& store, KeySelector begin, const std::string& prefix, int limit) {
  const KeyLayout& layout = store.layout();
  const KeyRange space = layout.meta_range();
  const Key prefix_begin = layout.meta_key(prefix);
  const Key end = prefix.empty() ? space.end : prefix_end(prefix_begin);
  if (begin.key < prefix_begin) begin = KeySelector::first_greater_or_equal(prefix_begin);
  const KeySelector end_selector = KeySelector::first_greater_or_equal(end);
  RangeResult rows = co_await store.transaction().get_range(begin, end_selector, limit);
  KeyPage page;
  page.more = rows.more;
  for (KeyValue& row : rows.rows) {
    page.last_key = layout.key_of_meta(row.key);
    KeyMeta meta = decode_meta(row.value);
    if (meta.expire_ms != 0 && meta.expire_ms <= store.now_ms()) continue;
    page.keys.emplace_back(page.last_key, std::move(meta));
  }
  co_return page;
}

Future<Void> keys(CommandContext& c) {
  const std::string& pattern = c.args[1];
  const std::string prefix = glob_literal_prefix(pattern);
  std::vector<std::string> matched;
  KeySelector begin = KeySelector::first_greater_or_equal(c.store->layout().meta_key(prefix));
  while (true) {
    KeyPage page = co_await read_keys(*c.store, begin, prefix, 1000);
    for (auto& [key, meta] : page.keys) {
      if (glob_match(pattern, key)) matched.push_back(key);
    }
    if (!page.more) break;
    begin = KeySelector::first_greater_than(c.store->layout().meta_key(page.last_key));
  }
  c.out.array(matched.size());
  for (const std::string& key : matched) c.out.bulk(key);
  co_return Void{};
}

// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
Future<Void> scan(CommandContext& c) {
  std::optional<ScanPosition> position = scan_position(c, 1);
  if (!position) co_return Void{};
  std::string pattern;
  std::string type_filter;
  int64_t count = 10;
  for (size_t i = 2; i < c.args.size(); i += 2) {
    const std::string option = lowercase(c.args[i]);
    if (i + 1 >= c.args.size()) {
      c.out.error(syntax);
      co_return Void{};
    }
    if (option == "match") {
      pattern = c.args[i + 1];
    } else if (option == "count") {
      if (!integer_argument(c, i + 1, count)) co_return Void{};
      if (count < 1) {
        c.out.error(syntax);
        co_return Void{};
      }
    } else if (option == "type") {
      type_filter = lowercase(c.args[i + 1]);
    } else {
      c.out.error(syntax);
      co_return Void{};
    }
  }
  const std::string prefix = pattern.empty() ? std::string() : glob_literal_prefix(pattern);
  const KeyLayout& layout = c.store->layout();
  const KeySelector begin = position->start ? KeySelector::first_greater_or_equal(layout.meta_key(prefix))
                                            : KeySelector::first_greater_than(layout.meta_key(position->last_key));
  const int limit = static_cast<int>(std::min<int64_t>(count, 10'000));
  KeyPage page = co_await read_keys(*c.store, begin, prefix, limit);
  c.out.array(2);
  c.out.bulk(page.more ? c.server.scan_cursors.encode(page.last_key) : "0");
  std::vector<std::string> matched;
  for (auto& [key, meta] : page.keys) {
    if (!pattern.empty() && !glob_match(pattern, key)) continue;
    if (!type_filter.empty() && type_filter != type_name(meta.type)) continue;
    matched.push_back(key);
  }
  c.out.array(matched.size());
  for (const std::string& key : matched) c.out.bulk(key);
  co_return Void{};
}

// A random live key: the keys read from a random point onwards (wrapping to the start), up to
// a window, then one of them uniformly. Exactly uniform when the keyspace fits in the window;
// beyond it, keys right after large gaps of the key space are picked more often.
Future<Void> randomkey(CommandContext& c) {
  constexpr int window_keys_max = 64;
  const KeyLayout& layout = c.store->layout();
  DeterministicRandom& random = deterministic_random();
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::string probe;
    for (int i = 0; i < 8; ++i) probe.push_back(static_cast<char>(random.random_int(0, 256)));
    KeyPage after = co_await read_keys(*c.store, KeySelector::first_greater_or_equal(layout.meta_key(probe)), "",
                                       window_keys_max);
    std::vector<std::string> candidates;
    for (auto& entry : after.keys) candidates.push_back(std::move(entry.first));
    if (!after.more) {
      KeyPage wrapped = co_await read_keys(*c.store, KeySelector::first_greater_or_equal(layout.meta_range().begin),
                                           "", window_keys_max);
      for (auto& entry : wrapped.keys) {
        if (entry.first >= probe) break;  // read already
        candidates.push_back(std::move(entry.first));
      }
      if (candidates.empty() && !wrapped.more && after.last_key.empty() && wrapped.last_key.empty()) break;
    }
    if (!candidates.empty()) {
      c.out.bulk(candidates[static_cast<size_t>(random.random_int(0, static_cast<int>(candidates.size())))]);
      co_return Void{};
    }
  }
  c.out.null();
  co_return Void{};
}

// Writes `source`'s value (and TTL) as `target` over `target_record`.
Future<Void> copy_key(KeyStore& store, const std::string& source, const KeyRecord& source_record,
                      const std::string& target, const KeyRecord& target_record) {
  const KeyLayout& layout = store.layout();
  if (source_record.meta.type == KeyType::hash) {
    std::vector<KeyValue> fields = co_await read_whole_range(store.transaction(), layout.fields_range(source));
    if (target_record.present) store.transaction().clear_range(layout.fields_range(target));
    KeyRecord cleared = target_record;
    cleared.meta.type = KeyType::string;  // its fields are already cleared
    store.write(target, cleared, source_record.meta);
    for (const KeyValue& field : fields) store.set_field(target, layout.field_of(source, field.key), field.value);
  } else {
    store.write(target, target_record, source_record.meta);
  }
  co_return Void{};
}

// RENAME and RENAMENX.
Future<Void> rename(CommandContext& c) {
  const bool only_new = lowercase(c.args[0]) == "renamenx";
  const std::string& source = c.args[1];
  const std::string& target = c.args[2];
  KeyRecord source_record = co_await c.store->load(source);
  if (!source_record.alive()) {
    c.out.error(no_such_key);
    co_return Void{};
  }
  if (source == target) {
    if (only_new) {
      c.out.integer(0);
    } else {
      c.out.ok();
    }
    co_return Void{};
  }
  KeyRecord target_record = co_await c.store->load(target);
  if (only_new && target_record.alive()) {
    c.out.integer(0);
    co_return Void{};
  }
  co_await copy_key(*c.store, source, source_record, target, target_record);
  c.store->remove(source, source_record);
  if (only_new) {
    c.out.integer(1);
  } else {
    c.out.ok();
  }
  co_return Void{};
}

// COPY source destination [DB n] [REPLACE]
Future<Void> copy(CommandContext& c) {
  bool replace = false;
  for (size_t i = 3; i < c.args.size(); ++i) {
    const std::string option = lowercase(c.args[i]);
    if (option == "replace") {
      replace = true;
    } else if (option == "db" && i + 1 < c.args.size()) {
      int64_t db = 0;
      if (!integer_argument(c, i + 1, db)) co_return Void{};
      if (db != 0) {
        c.out.error("ERR DB index is out of range");
        co_return Void{};
      }
      ++i;
    } else {
      c.out.error(syntax);
      co_return Void{};
    }
  }
  const std::string& source = c.args[1];
  const std::string& target = c.args[2];
  if (source == target) {
    c.out.error("ERR source and destination objects are the same");
    co_return Void{};
  }
  KeyRecord source_record = co_await c.store->load(source);
  KeyRecord target_record = co_await c.store->load(target);
  if (!source_record.alive() || (target_record.alive() && !replace)) {
    c.out.integer(0);
    co_return Void{};
  }
  co_await copy_key(*c.store, source, source_record, target, target_record);
  c.out.integer(1);
  co_return Void{};
}

Future<Void> dbsize(CommandContext& c) {
  int64_t count = 0;
  KeySelector begin = KeySelector::first_greater_or_equal(c.store->layout().meta_range().begin);
  while (true) {
    KeyPage page = co_await read_keys(*c.store, begin, "", 1000);
    count += static_cast<int64_t>(page.keys.size());
    if (!page.more) break;
    begin = KeySelector::first_greater_than(c.store->layout().meta_key(page.last_key));
  }
  c.out.integer(count);
  co_return Void{};
}

Future<Void> flush(CommandContext& c) {
  if (c.args.size() > 2 || (c.args.size() == 2 && !equals_ignore_case(c.args[1], "async") &&
                            !equals_ignore_case(c.args[1], "sync"))) {
    c.out.error(syntax);
    co_return Void{};
  }
  KeyStore& store = *c.store;
  const KeyLayout& layout = store.layout();
  Transaction& transaction = store.transaction();
  // The WATCH markers (keyspace.h) stay, with the stamps of the marked keys: EXEC of a WATCH of
  // a key that was not alive then sees whether the key was created and flushed meanwhile.
  const auto markers_max = static_cast<size_t>(resp_knobs().resp_flush_watch_markers_max);
  const RangeResult markers = co_await transaction.get_range(layout.watch_marker_range(), static_cast<int>(markers_max + 1));
  size_t marker_bytes = 0;  // what the writes below take: a marker or a stamp per marked key
  for (const KeyValue& row : markers.rows) marker_bytes += row.key.size() + row.value.size();
  if (markers.rows.size() > markers_max ||
      marker_bytes > static_cast<size_t>(resp_knobs().resp_flush_watch_marker_bytes_max)) {
    // Too many to look at: they all go, and every such WATCH fires.
    transaction.clear_range(layout.all());
    c.out.ok();
    co_return Void{};
  }
  struct Marked {
    std::string key;
    Future<KeyRecord> record;
    Future<std::optional<Value>> stamp;
  };
  std::vector<Marked> marked;
  for (const KeyValue& row : markers.rows) {
    std::string key = layout.key_of_watch_marker(row.key);
    Future<KeyRecord> record = store.load(key);
    Future<std::optional<Value>> stamp = transaction.get(layout.stamp_key(key));
    marked.push_back(Marked{std::move(key), std::move(record), std::move(stamp)});
  }
  // A marked key alive now gets a new marker; one that is not keeps its stamp (no change).
  std::vector<std::pair<Key, Value>> kept;  // written after the clear
  for (Marked& entry : marked) {
    const KeyRecord record = co_await entry.record;
    std::optional<Value> stamp_key_value = co_await entry.stamp;
    if (record.alive()) {
      kept.emplace_back(layout.watch_marker_key(entry.key), fresh_watch_marker(store.now_ms()));
    } else if (std::optional<std::string> stamp = modification_stamp(record, std::move(stamp_key_value))) {
      kept.emplace_back(layout.stamp_key(entry.key), std::move(*stamp));
    }
  }
  for (const KeyRange& range : layout.all_but_watch_markers()) transaction.clear_range(range);
  for (const auto& [key, value] : kept) transaction.set(key, value);
  c.out.ok();
  co_return Void{};
}

// EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT key time [NX | XX | GT | LT]
Future<Void> expire(CommandContext& c) {
  const std::string name = lowercase(c.args[0]);
  int64_t amount = 0;
  if (!integer_argument(c, 2, amount)) co_return Void{};
  bool nx = false, xx = false, gt = false, lt = false;
  for (size_t i = 3; i < c.args.size(); ++i) {
    const std::string option = lowercase(c.args[i]);
    if (option == "nx") nx = true;
    else if (option == "xx") xx = true;
    else if (option == "gt") gt = true;
    else if (option == "lt") lt = true;
    else {
      c.out.error("ERR Unsupported option " + c.args[i]);
      co_return Void{};
    }
  }
  if (nx && (xx || gt || lt)) {
    c.out.error("ERR NX and XX, GT or LT options at the same time are not compatible");
    co_return Void{};
  }
  if (gt && lt) {
    c.out.error("ERR GT and LT options at the same time are not compatible");
    co_return Void{};
  }
  const bool seconds = name == "expire" || name == "expireat";
  const bool absolute = name == "expireat" || name == "pexpireat";
  const std::string invalid = "ERR invalid expire time in '" + name + "' command";
  if (seconds && (amount > INT64_MAX / 1000 || amount < INT64_MIN / 1000)) {
    c.out.error(invalid);
    co_return Void{};
  }
  int64_t deadline = seconds ? amount * 1000 : amount;
  if (!absolute) {
    const int64_t now_ms = c.store->now_ms();
    if ((deadline > 0 && deadline > INT64_MAX - now_ms) || (deadline < 0 && deadline < INT64_MIN + now_ms)) {
      c.out.error(invalid);
      co_return Void{};
    }
    deadline += now_ms;
  }
  KeyRecord record = co_await c.store->load(c.args[1]);
  if (!record.alive()) {
    c.out.integer(0);
    co_return Void{};
  }
  const int64_t current = record.meta.expire_ms;  // 0: none, counts as infinite
  const bool allowed = !(nx && current != 0) && !(xx && current == 0) && !(gt && (current == 0 || deadline <= current)) &&
                       !(lt && current != 0 && deadline >= current);
  if (!allowed) {
    c.out.integer(0);
    co_return Void{};
  }
  if (deadline <= c.store->now_ms()) {
    c.store->remove(c.args[1], record);
  } else {
    KeyMeta meta = record.meta;
    meta.expire_ms = deadline;
    c.store->write(c.args[1], record, meta);
  }
  c.out.integer(1);
  co_return Void{};
}

// TTL, PTTL, EXPIRETIME, PEXPIRETIME.
Future<Void> ttl(CommandContext& c) {
  const std::string name = lowercase(c.args[0]);
  KeyRecord record = co_await c.store->load(c.args[1]);
  if (!record.alive()) {
    c.out.integer(-2);
  } else if (record.meta.expire_ms == 0) {
    c.out.integer(-1);
  } else if (name == "pexpiretime") {
    c.out.integer(record.meta.expire_ms);
  } else if (name == "expiretime") {
    c.out.integer(record.meta.expire_ms / 1000);
  } else {
    const int64_t remaining = record.meta.expire_ms - c.store->now_ms();
    c.out.integer(name == "pttl" ? remaining : (remaining + 500) / 1000);
  }
  co_return Void{};
}

Future<Void> persist(CommandContext& c) {
  KeyRecord record = co_await c.store->load(c.args[1]);
  if (!record.alive() || record.meta.expire_ms == 0) {
    c.out.integer(0);
    co_return Void{};
  }
  KeyMeta meta = record.meta;
  meta.expire_ms = 0;
  c.store->write(c.args[1], record, meta);
  c.out.integer(1);
  co_return Void{};
}

}  // namespace

std::vector<CommandSpec> key_commands() {
  constexpr uint32_t write = command_flags::write;
  constexpr uint32_t readonly = command_flags::readonly;
  return {
      {"del", -2, write, 1, -1, 1, del},
      {"unlink", -2, write, 1, -1, 1, del},
      {"exists", -2, readonly | command_flags::lookups, 1, -1, 1, exists},
      {"touch", -2, readonly | command_flags::lookups, 1, -1, 1, exists},  // no access times to update: the keys that exist
      {"type", 2, readonly | command_flags::lookups, 1, 1, 1, type},
      {"keys", 2, readonly | command_flags::unbatched, 0, 0, 0, keys},
      {"scan", -2, readonly | command_flags::unbatched, 0, 0, 0, scan},
      {"randomkey", 1, readonly | command_flags::unbatched, 0, 0, 0, randomkey},
      {"rename", 3, write, 1, 2, 1, rename},
      {"renamenx", 3, write, 1, 2, 1, rename},
      {"copy", -3, write, 1, 2, 1, copy},
      {"dbsize", 1, readonly | command_flags::unbatched, 0, 0, 0, dbsize},
      {"flushdb", -1, write | command_flags::unbatched, 0, 0, 0, flush},
      {"flushall", -1, write | command_flags::unbatched, 0, 0, 0, flush},
      {"expire", -3, write, 1, 1, 1, expire},
      {"pexpire", -3, write, 1, 1, 1, expire},
      {"expireat", -3, write, 1, 1, 1, expire},
      {"pexpireat", -3, write, 1, 1, 1, expire},
      {"ttl", 2, readonly | command_flags::lookups, 1, 1, 1, ttl},
      {"pttl", 2, readonly | command_flags::lookups, 1, 1, 1, ttl},
      {"expiretime", 2, readonly | command_flags::lookups, 1, 1, 1, ttl},
      {"pexpiretime", 2, readonly | command_flags::lookups, 1, 1, 1, ttl},
      {"persist", 2, write, 1, 1, 1, persist},
  };
}

}  // namespace keel
