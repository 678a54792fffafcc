#include "storage/memory/memory_format.h"

#include <xxhash.h>

#include <cstring>

#include <fmt/format.h>

#include "runtime/assert.h"
#include "runtime/trace.h"

namespace keel::memory_format {
namespace {

constexpr size_t generation_digits = 20;
constexpr size_t snapshot_checksum_bytes = 8;
constexpr std::string_view snapshot_prefix = "snapshot-";
constexpr std::string_view log_prefix = "log-";
constexpr std::string_view temporary_suffix = ".tmp";

std::optional<uint64_t> parse_generation(std::string_view digits) {
  if (digits.size() != generation_digits) return std::nullopt;
  uint64_t generation = 0;
  for (char digit : digits) {
    if (digit < '0' || digit > '9') return std::nullopt;
    const auto value = static_cast<uint64_t>(digit - '0');
    if (generation > (UINT64_MAX - value) / 10) return std::nullopt;
    generation = generation * 10 + value;
  }
  return generation;
}

template <class T>
T load(std::string_view bytes, uint64_t offset) {
  T value{};
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

// Serialization errors inside data whose checksum matched mean a bug or a collision: either way
// the bytes cannot be trusted, which callers hear as checksum_failed.
[[noreturn]] void corrupt(std::string_view what) {
  TraceEvent(Severity::warn_always, "MemoryKVStoreUndecodable").detail("What", what);
  throw Error(errc::checksum_failed);
}

}  // namespace

std::string file_name(FileKind kind, uint64_t generation) {
  const std::string digits = fmt::format("{:0{}}", generation, generation_digits);
  switch (kind) {
    case FileKind::snapshot:
      return std::string(snapshot_prefix) + digits;
    case FileKind::temporary_snapshot:
      return std::string(snapshot_prefix) + digits + std::string(temporary_suffix);
    case FileKind::log:
      return std::string(log_prefix) + digits;
  }
  KEEL_ASSERT(false);
  return {};
}

std::optional<FileName> parse_file_name(std::string_view name) {
  if (name.starts_with(log_prefix)) {
    std::optional<uint64_t> generation = parse_generation(name.substr(log_prefix.size()));
    if (!generation) return std::nullopt;
    return FileName{FileKind::log, *generation};
  }
  if (!name.starts_with(snapshot_prefix)) return std::nullopt;
  std::string_view rest = name.substr(snapshot_prefix.size());
  FileKind kind = FileKind::snapshot;
  if (rest.ends_with(temporary_suffix)) {
    kind = FileKind::temporary_snapshot;
    rest.remove_suffix(temporary_suffix.size());
  }
  std::optional<uint64_t> generation = parse_generation(rest);
  if (!generation) return std::nullopt;
  return FileName{kind, *generation};
}

std::string encode_snapshot(uint64_t generation, uint64_t log_salt, const std::map<Key, Value>& data) {
  BinaryWriter writer;
  writer(uint64_t{0}, snapshot_magic, snapshot_format_version, generation, log_salt,
         static_cast<uint64_t>(data.size()));
  for (const auto& [key, value] : data) writer(key, value);
  std::string file = writer.take();
  const uint64_t checksum =
      XXH3_64bits(file.data() + snapshot_checksum_bytes, file.size() - snapshot_checksum_bytes);
  std::memcpy(file.data(), &checksum, sizeof(checksum));
  return file;
}

Snapshot decode_snapshot(std::string_view file) {
  if (file.size() < snapshot_checksum_bytes) throw Error(errc::checksum_failed);
  const auto checksum = load<uint64_t>(file, 0);
  if (XXH3_64bits(file.data() + snapshot_checksum_bytes, file.size() - snapshot_checksum_bytes) != checksum) {
    throw Error(errc::checksum_failed);
  }
  Snapshot snapshot;
  try {
    BinaryReader reader(file.substr(snapshot_checksum_bytes));
    uint64_t magic = 0;
    uint32_t version = 0;
    reader(magic, version);
    if (magic != snapshot_magic) corrupt("SnapshotMagic");
    if (version != snapshot_format_version) {
      TraceEvent(Severity::warn_always, "MemoryKVStoreUnsupportedFormat").detail("Version", version);
      throw Error(errc::io_error);
    }
    uint64_t entry_count = 0;
    reader(snapshot.generation, snapshot.log_salt, entry_count);
    for (uint64_t i = 0; i < entry_count; ++i) {
      Key key;
      Value value;
      reader(key, value);
      if (!snapshot.data.empty() && !(snapshot.data.rbegin()->first < key)) corrupt("SnapshotKeyOrder");
      snapshot.data.emplace_hint(snapshot.data.end(), std::move(key), std::move(value));
    }
    reader.expect_end();
  } catch (const Error& error) {
    if (error.code() != errc::serialization_failed) throw;
    corrupt("Snapshot");
  }
  return snapshot;
}

void write_mutation(BinaryWriter& payload, MutationType type, const std::string& param1, const std::string& param2) {
  KEEL_ASSERT(type == MutationType::set_value || type == MutationType::clear_range);
  payload(type, param1, param2);  // the layout of Mutation::serialize
}

std::vector<Mutation> decode_payload(std::string_view payload) {
  std::vector<Mutation> mutations;
  try {
    BinaryReader reader(payload);
    while (!reader.at_end()) {
      Mutation mutation;
      reader.read(mutation);
      if (mutation.type != MutationType::set_value && mutation.type != MutationType::clear_range) {
        corrupt("MutationType");
      }
      mutations.push_back(std::move(mutation));
    }
  } catch (const Error& error) {
    if (error.code() != errc::serialization_failed) throw;
    corrupt("LogRecord");
  }
  return mutations;
}

std::string encode_log_record(std::string_view payload, uint64_t log_salt) {
  KEEL_ASSERT(payload.size() <= log_record_payload_bytes_max);
  const auto payload_bytes = static_cast<uint32_t>(payload.size());
  const uint64_t checksum = XXH3_64bits_withSeed(payload.data(), payload.size(), log_salt);
  std::string record(log_record_header_bytes, '\0');
  std::memcpy(record.data(), &payload_bytes, sizeof(payload_bytes));
  std::memcpy(record.data() + sizeof(payload_bytes), &checksum, sizeof(checksum));
  record.append(payload);
  return record;
}

std::optional<std::string_view> log_record_payload_at(std::string_view log, uint64_t offset, uint64_t log_salt) {
  if (offset > log.size() || log.size() - offset < log_record_header_bytes) return std::nullopt;
  const auto payload_bytes = load<uint32_t>(log, offset);
  const auto checksum = load<uint64_t>(log, offset + sizeof(uint32_t));
  const uint64_t payload_at = offset + log_record_header_bytes;
  if (payload_bytes > log_record_payload_bytes_max || log.size() - payload_at < payload_bytes) return std::nullopt;
  const std::string_view payload = log.substr(payload_at, payload_bytes);
  if (XXH3_64bits_withSeed(payload.data(), payload.size(), log_salt) != checksum) return std::nullopt;
  return payload;
}

namespace {

// True if a valid record starts where the record after a bad one at `offset` would, were the bad
// one rotten rather than torn: after its length as read, or as read with one bit flipped.
bool valid_record_follows(std::string_view log, uint64_t offset, uint64_t log_salt) {
  if (log.size() - offset < log_record_header_bytes) return false;
  const auto payload_bytes = load<uint32_t>(log, offset);
  for (int bit = -1; bit < 32; ++bit) {
    const uint32_t candidate = bit < 0 ? payload_bytes : payload_bytes ^ (uint32_t{1} << bit);
    const uint64_t next = offset + log_record_header_bytes + candidate;
    if (next < log.size() && log_record_payload_at(log, next, log_salt)) return true;
  }
  return false;
}

}  // namespace

LogScan scan_log(std::string_view log, uint64_t log_salt, const std::function<void(std::string_view)>& on_record) {
  LogScan scan;
  while (scan.valid_bytes < log.size()) {
    std::optional<std::string_view> payload = log_record_payload_at(log, scan.valid_bytes, log_salt);
    if (!payload) {
      if (valid_record_follows(log, scan.valid_bytes, log_salt)) {
        TraceEvent(Severity::warn_always, "MemoryKVStoreLogCorrupt").detail("Offset", scan.valid_bytes);
        throw Error(errc::checksum_failed);
      }
      scan.torn_tail = true;
      return scan;
    }
    on_record(*payload);
    scan.valid_bytes += log_record_header_bytes + payload->size();
    ++scan.records;
  }
  return scan;
}

}  // namespace keel::memory_format
