// The on-disk format of the `memory` engine: file names, snapshot files and log records, as pure
// functions on bytes (the engine, memory_kv_store.cpp, does the I/O). Fields marked (fixed) must
// never change; anything else changes only with snapshot_format_version.
//
// Directory: for the current generation N (20 decimal digits, zero-padded):
//   snapshot-N        the whole data set as of the start of generation N (complete: it is written
//                     to snapshot-N.tmp, synced, then renamed, and renames are durable at once)
//   log-N             every commit since snapshot-N, as records appended back to back
//   snapshot-N.tmp    a snapshot being written; never read, deleted at open
//   Files of other generations are leftovers of an interrupted switch, deleted at open.
//
// Snapshot file:
//   u64 checksum        (fixed) XXH3-64, seed 0, of every byte after this field
//   u64 magic           (fixed) 0x504E534D4C45454B, the bytes "KEELMSNP"
//   u32 format_version  (fixed position) 1
//   u64 generation      N; must equal the generation in the file's name
//   u64 log_salt        seed of the checksums of log-N's records (random per generation)
//   u64 entry_count
//   entry_count × { u32 key_bytes, key bytes, u32 value_bytes, value bytes }, keys strictly
//                       increasing
//
// Log record (log-N has no header; records start at offset 0):
//   u32 payload_bytes   (fixed) at most log_record_payload_bytes_max
//   u64 checksum        (fixed) XXH3-64 of the payload, seeded with snapshot-N's log_salt
//   payload             one or more mutations up to the end of the payload, each serialized as
//                       protocol/types.h Mutation: u8 type (0 set_value, 1 clear_range; fixed
//                       numbering), u32 + bytes param1, u32 + bytes param2
// One record holds one commit, or several commits written together (group commit): a crash keeps
// or drops a record whole, so every commit is atomic.
//
// Torn tail versus corruption (scan_log). The engine writes one record at a time and syncs it
// before writing the next, and truncates (and syncs) a torn tail before appending again, so a
// crash can damage only the last record, and every byte after that record's start belongs to it.
// So when a record is bad, scan_log looks for a valid record where the next one would start if
// the bad one were merely rotten: right after its length as read, or after that length with any
// one bit flipped (a flipped length bit). If one is found, committed records follow the damage:
// checksum_failed. If none is, the bad record is the torn tail of a commit that never completed
// and the log ends before it. The salt makes sure no user value can pass for a record there. So
// the tail record is the only one allowed to be bad: bit rot in the last record is
// indistinguishable from a torn write and loses that one record.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/types.h"
#include "rpc/serialize.h"

namespace keel::memory_format {

inline constexpr uint64_t snapshot_magic = 0x504E534D4C45454BULL;  // "KEELMSNP"
inline constexpr uint32_t snapshot_format_version = 1;
inline constexpr size_t log_record_header_bytes = 12;
// A commit larger than this is made durable by a snapshot instead of a record.
inline constexpr size_t log_record_payload_bytes_max = 256 * 1024 * 1024;

enum class FileKind { snapshot, temporary_snapshot, log };

struct FileName {
  FileKind kind = FileKind::snapshot;
  uint64_t generation = 0;
  bool operator==(const FileName&) const = default;
};

std::string file_name(FileKind kind, uint64_t generation);
// nullopt for a name this engine did not write.
std::optional<FileName> parse_file_name(std::string_view name);

struct Snapshot {
  uint64_t generation = 0;
  uint64_t log_salt = 0;
  std::map<Key, Value> data;
};

std::string encode_snapshot(uint64_t generation, uint64_t log_salt, const std::map<Key, Value>& data);
// Throws checksum_failed unless `file` is exactly a snapshot encode_snapshot wrote, and io_error
// (with a trace event) for a snapshot of a format version this build cannot read.
Snapshot decode_snapshot(std::string_view file);

// Appends one mutation (set_value or clear_range) to a record payload being built.
void write_mutation(BinaryWriter& payload, MutationType type, const std::string& param1, const std::string& param2);
// The mutations of a verified payload; throws checksum_failed if it does not decode (which only a
// bug or a checksum collision could cause).
std::vector<Mutation> decode_payload(std::string_view payload);

std::string encode_log_record(std::string_view payload, uint64_t log_salt);
// The payload of the record starting at `offset`, or nullopt if no valid record starts there
// (header or payload cut short by the end of `log`, length over the limit, or bad checksum).
std::optional<std::string_view> log_record_payload_at(std::string_view log, uint64_t offset, uint64_t log_salt);

struct LogScan {
  uint64_t valid_bytes = 0;  // the valid records end here; the log is truncated to this
  uint64_t records = 0;
  bool torn_tail = false;  // bytes after valid_bytes were a torn record
};
// Hands the payload of every valid record to `on_record`, in order, and says where they end.
// Throws checksum_failed when a bad record is followed by a valid one (see the top of this file).
LogScan scan_log(std::string_view log, uint64_t log_salt, const std::function<void(std::string_view)>& on_record);

}  // namespace keel::memory_format
