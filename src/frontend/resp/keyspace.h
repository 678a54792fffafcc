// The Redis data model in the ordered keyspace, under one prefix P (default "\x02resp/",
// `keel server --resp-prefix`); docs/resp.md describes it for operators.
//
//   P 'k' <key>                          metadata record: format byte, type, expiry deadline,
//                                        modification stamp, then the string's value or the
//                                        hash's field count
//   P 's' <key>                          the stamp a removed key left (WATCH)
//   P 'w' <key>                          WATCH marker of a key that was not alive (below)
//   P 'h' <u32 BE len(key)> <key> <field> one hash field's value
//   P 'x' <i64 BE deadline ms> <key>     expiry index: the sweeper's work list
//
// The metadata record's layout (the first byte must never change meaning):
//   format 2: u8 format = 2 | u8 type (1 string, 2 hash) | i64 BE expiry deadline in ms of wall
//   time (0: none) | 8-byte modification stamp | string: the value bytes | hash: i64 BE field
//   count. Format 1 (written before the stamp moved into the record) has no stamp; its key's
//   stamp is in P 's' <key>, which format 1 wrote on every change. Both are read; format 2 is
//   written, except for a format-1 string too long for format 2's header, which stays format 1.
//
// KeyStore is the view of one transaction: a key whose deadline has passed is not alive (every
// command treats it as missing at once) although its records stay until the sweeper or the
// next write of the key removes them. A key's modification stamp, for WATCH, changes with every
// change of the key: every record write carries a fresh random stamp, and a removal leaves one
// in P 's' <key> (a fresh one, or the record's own when the key had already expired, which is
// no change). FLUSHALL removes records and stamps at once, so a key that was not alive at WATCH
// and was created and then flushed would leave no trace; hence the WATCH marker: WATCH of a key
// that is not alive makes sure P 'w' <key> holds a random stamp (writing one if none), and
// FLUSHALL keeps the markers and gives a fresh one to each marked key alive at the flush (and
// keeps the stamps of the other marked keys). EXEC compares the marker too. The sweeper drops
// markers older than resp_watch_marker_seconds (a WATCH held longer fires, which is safe).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "client/database.h"
#include "protocol/limits.h"

namespace keel {

inline constexpr std::string_view resp_prefix_default = "\x02resp/";

// invalid: a record that is not in the front end's format (something else wrote it through the
// native API). Listings (KEYS, SCAN, DBSIZE) show such a key; DEL, UNLINK and SET remove or
// replace it; WATCH and the sweeper read it; every other command fails with resp_record_invalid.
enum class KeyType : uint8_t { invalid = 0, string = 1, hash = 2 };

struct KeyMeta {
  KeyType type = KeyType::string;
  int64_t expire_ms = 0;    // deadline in ms of wall time; 0: never
  int64_t hash_fields = 0;  // hashes: number of fields
  std::string value;        // strings: the value
};

inline constexpr size_t stamp_bytes = 8;
inline constexpr size_t meta_header_bytes = 18;           // format 2
inline constexpr size_t unstamped_meta_header_bytes = 10;  // format 1
// The longest string value: the metadata record holds it with its header.
inline constexpr size_t string_bytes_max = value_bytes_max - meta_header_bytes;
// Whether a command may leave a string `bytes` long where it was `current_bytes` long: up to
// string_bytes_max, or no longer than it is (a string written in format 1 may be up to 8 bytes
// longer than string_bytes_max; it can still be rewritten, in format 1).
inline bool string_size_allowed(size_t bytes, size_t current_bytes = 0) {
  return bytes <= string_bytes_max || bytes <= current_bytes;
}

// A format-2 record of `meta` with `stamp` (stamp_bytes long).
std::string encode_meta(const KeyMeta& meta, std::string_view stamp);
// A format-1 record of `meta` (its stamp lives in the stamp key): only for strings longer than
// string_bytes_max, written before format 2.
std::string encode_unstamped_meta(const KeyMeta& meta);
// Reads a format-1 or format-2 record; `stamp`, if given, gets the record's stamp (none in
// format 1). Anything else gives a KeyMeta of type invalid.
KeyMeta decode_meta(std::string_view bytes, std::optional<std::string>* stamp = nullptr);
// A new modification stamp: random (a collision with the stamp a WATCH holds has odds of 2^-64).
std::string fresh_stamp();
// A new WATCH marker: a fresh stamp, then when it was written (i64 BE ms of wall time), which
// the sweeper reads to drop old markers.
std::string fresh_watch_marker(int64_t now_ms);
// When a marker was written (0 for a marker without the time).
int64_t watch_marker_written_ms(std::string_view marker);

class KeyLayout {
 public:
  explicit KeyLayout(std::string prefix);

  const std::string& prefix() const { return prefix_; }
  // The longest Redis key every key derived from it fits in (the expiry index's, the longest).
  size_t redis_key_bytes_max() const;
  Key meta_key(std::string_view key) const;
  KeyRange meta_range() const;
  // The Redis key of a metadata record's key.
  std::string key_of_meta(std::string_view meta_key) const;

  // Where a removed key's stamp stays (and format 1 kept every stamp).
  Key stamp_key(std::string_view key) const;
  Key field_key(std::string_view key, std::string_view field) const;
  // The longest field of hash `key` whose field key fits in a KeelDB key (0: none fits).
  size_t field_bytes_max(std::string_view key) const;
  KeyRange fields_range(std::string_view key) const;
  std::string field_of(std::string_view key, std::string_view field_key) const;

  Key expiry_key(int64_t deadline_ms, std::string_view key) const;
  // Expiry index entries with deadlines below `deadline_ms`.
  KeyRange expiry_range_below(int64_t deadline_ms) const;
  // The deadline and key of an expiry index entry.
  std::pair<int64_t, std::string> decode_expiry_key(std::string_view expiry_key) const;

  Key watch_marker_key(std::string_view key) const;
  KeyRange watch_marker_range() const;
  std::string key_of_watch_marker(std::string_view marker_key) const;

  // Everything of the front end.
  KeyRange all() const;
  // Everything but the WATCH markers (what FLUSHALL clears).
  std::vector<KeyRange> all_but_watch_markers() const;

 private:
  // P <tag> <key>, the keys under P <tag>, and the <key> of P <tag> <key>.
  Key tagged_key(char tag, std::string_view key) const;
  KeyRange tagged_range(char tag) const;
  std::string key_of_tagged(char tag, std::string_view tagged) const;

  std::string prefix_;
};

// The first key after every key that starts with `prefix` (`prefix` must not be all 0xff).
Key prefix_end(std::string_view prefix);

// One key's metadata as a transaction read it.
struct KeyRecord {
  bool present = false;  // a metadata record exists (possibly expired)
  bool expired = false;
  KeyMeta meta;
  std::optional<std::string> stamp;  // the record's modification stamp (none in format 1)
  bool alive() const { return present && !expired; }
  bool is(KeyType type) const { return alive() && meta.type == type; }
};

// The record `bytes` hold (nullopt: none) as a transaction at wall time `now_ms` reads it.
KeyRecord decode_record(const std::optional<Value>& bytes, int64_t now_ms);

// Lookups of keys by read commands, found and not (INFO's keyspace_hits and keyspace_misses).
struct KeyLookupCounts {
  uint64_t hits = 0;
  uint64_t misses = 0;
};

class KeyStore {
 public:
  KeyStore(Transaction& transaction, const KeyLayout& layout, int64_t now_ms)
      : transaction_(transaction), layout_(layout), now_ms_(now_ms) {}

  Transaction& transaction() { return transaction_; }
  const KeyLayout& layout() const { return layout_; }
  int64_t now_ms() const { return now_ms_; }

  // The key's record. A record of type invalid fails with resp_record_invalid (invalid_key()
  // names it then); load_any() returns it, for the commands that remove or replace a key.
  Future<KeyRecord> load(std::string key);
  Future<KeyRecord> load_any(std::string key);
  const std::optional<std::string>& invalid_key() const { return invalid_key_; }
  // While set, every record read (load(), load_any(), load_snapshot()) counts in `counts`: the
  // front end sets it around a read command, as Redis counts its read commands' lookups.
  void count_lookups(KeyLookupCounts* counts) { lookup_counts_ = counts; }
  // Marks the key's record to be read with the others prefetched, so that a later load() (or
  // load_snapshot()) of it needs no round trip of its own: a batch of pipelined commands
  // prefetches all its keys, and the first load of any of them reads them all together
  // (Transaction::get_all). The first load of the key takes the prefetched read (adding the read
  // conflict a load adds); writing the record through this KeyStore drops it. Only for
  // commands that change records through KeyStore (FLUSHALL clears them directly, and never
  // runs in a batch).
  void prefetch(const std::string& key);
  // Writes `meta` as the key's record (over `old`, what load() returned in this transaction):
  // removes an expired or replaced hash's fields, moves the expiry index entry, touches the stamp.
  void write(const std::string& key, const KeyRecord& old, const KeyMeta& meta);
  // The record as of the read version (and this transaction's writes), without a read
  // conflict: for overwrite().
  Future<KeyRecord> load_snapshot(std::string key);
  // Writes `meta` (a live key's: deadline in the future or none) over `old` as load_snapshot()
  // read it, for SET and MSET, which do not depend on the old value: no read conflict on the
  // record, so writers of one key do not abort each other. What could go wrong is a hash
  // created after the snapshot, whose fields would stay: a read conflict on the key's field
  // range covers exactly that. An expiry index entry that a concurrent change of the
  // deadline wrote stays for the sweeper (it drops entries whose key is not expired).
  void overwrite(const std::string& key, const KeyRecord& old, const KeyMeta& meta);
  // Removes the key and its fields; `touch` false only for a key that already expired (its
  // stamp stays what it was).
  void remove(const std::string& key, const KeyRecord& old, bool touch = true);
  // Gives a live key (`record`, as load() read it) a new stamp, for a change outside its record
  // (a hash field's value).
  void touch(const std::string& key, const KeyRecord& record);
  // Hash fields. A field longer than the layout's field_bytes_max(key) cannot have been written:
  // get_field() finds nothing and clear_field() does nothing; set_field()'s callers check first.
  Future<std::optional<Value>> get_field(const std::string& key, const std::string& field);
  void set_field(const std::string& key, const std::string& field, const Value& value);
  void clear_field(const std::string& key, const std::string& field);

 private:
  Future<KeyRecord> load_record(std::string key, bool snapshot, bool any_type);
  void put_record(const std::string& key, const KeyMeta& meta);
  void forget_prefetched(const std::string& key) { prefetched_.erase(key); }
  // Sends the reads of the keys prefetched since the last send, as one round.
  void read_prefetched();

  using Records = std::shared_ptr<std::vector<std::optional<Value>>>;
  struct Prefetched {
    size_t round = 0;  // in prefetch_rounds_ once sent
    size_t index = 0;
  };

  Transaction& transaction_;
  const KeyLayout& layout_;
  int64_t now_ms_;
  std::optional<std::string> invalid_key_;  // the last record of type invalid that load() refused
  KeyLookupCounts* lookup_counts_ = nullptr;
  std::unordered_map<std::string, Prefetched> prefetched_;  // not loaded yet, by key
  std::vector<Key> prefetch_keys_;                           // records of the round not sent yet
  std::vector<Future<Records>> prefetch_rounds_;             // each round's record bytes
};

// A key's modification stamp as a transaction read it: the record's while a format-2 record
// exists, else what the stamp key P 's' <key> holds (nullopt: none).
std::optional<std::string> modification_stamp(const KeyRecord& record, std::optional<Value> stamp_key_value);

// Redis's integer syntax: optional '-', digits, no leading zeros, no spaces, fits in int64.
bool parse_int64(std::string_view text, int64_t& value);
// Redis's float syntax for INCRBYFLOAT and HINCRBYFLOAT (no spaces, not NaN).
bool parse_long_double(std::string_view text, long double& value);

}  // namespace keel
