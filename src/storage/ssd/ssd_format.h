// The on-disk format of the `ssd` engine inside its LMDB environment, as pure functions on bytes
// (lmdb_store.cpp does the LMDB calls). Fields marked (fixed) must never change; anything else
// changes only with meta_format_version. docs/storage_engines.md has the overview.
//
// The environment (a directory: LMDB's data.mdb and lock.mdb) holds two named databases:
//   "data"  user keys and values, in records (below)
//   "meta"  one record under the key "meta" (below), rewritten by every commit
//
// Records. LMDB keys are at most 511 bytes, user keys up to key_bytes_max (10,000). A user key k
// lives in the record whose LMDB key is its prefix of at most record_key_bytes_max bytes:
// K = k[0, min(|k|, record_key_bytes_max)), stored under the LMDB key lmdb_key_tag followed by K
// (LMDB keys cannot be empty; the tag byte is fixed). A shorter key is alone in its record; a record whose
// K is exactly record_key_bytes_max long also holds every longer key starting with K. Because a
// record's keys all start with K and are at least K, LMDB's order of records is the order of
// user keys, and every user key of a record is >= its K.
//   u64 checksum   (fixed) XXH3-64 of every byte after this field, seeded with XXH3-64(K): a
//                  record moved to another key, or a flipped key byte, fails it too
//   u8  kind       (fixed) 0: a single entry, the key K itself, and the rest is its value
//                          1: entries: u32 count, then count x {u32 suffix_bytes, suffix (the key
//                             bytes after K), u32 value_bytes, value}, suffixes strictly increasing
//
// Meta record (database "meta", key "meta"):
//   u64 checksum        (fixed) XXH3-64, seed 0, of every byte after this field
//   u64 magic           (fixed) 0x314453534C45454B, the bytes "KEELSSD1"
//   u32 format_version  (fixed position) 1
//   u64 logical_bytes   sum of key and value bytes of every entry
//   u64 entry_count
//   u64 commits         LMDB write transactions committed by the engine, ever
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/types.h"

namespace keel::ssd_format {

inline constexpr uint64_t meta_magic = 0x314453534C45454BULL;  // "KEELSSD1"
inline constexpr uint32_t meta_format_version = 1;
inline constexpr size_t record_key_bytes_max = 400;  // plus the tag: below LMDB's 511-byte key limit
inline constexpr char lmdb_key_tag = 'k';            // (fixed)
inline constexpr std::string_view data_database = "data";
inline constexpr std::string_view meta_database = "meta";
inline constexpr std::string_view meta_key = "meta";

// The LMDB key of the record holding `key`.
std::string_view record_key(std::string_view key);

// One user key and value of a record; the key is the record's key followed by `suffix`.
struct Entry {
  std::string suffix;
  std::string value;
  bool operator==(const Entry&) const = default;
};

// Encodes the entries of the record at `record_key` (sorted by suffix, at least one).
std::string encode_record(std::string_view record_key, const std::vector<Entry>& entries);
// The entries of a record read at `record_key`. Throws checksum_failed for a record that does not
// verify or decode, or whose suffixes are out of order or impossible for its key.
std::vector<Entry> decode_record(std::string_view record_key, std::string_view bytes);

struct Meta {
  int64_t logical_bytes = 0;
  int64_t entry_count = 0;
  int64_t commits = 0;
  bool operator==(const Meta&) const = default;
};

std::string encode_meta(const Meta& meta);
// Throws checksum_failed for a record that does not verify, and io_error for a format version
// this build cannot read.
Meta decode_meta(std::string_view bytes);

}  // namespace keel::ssd_format
