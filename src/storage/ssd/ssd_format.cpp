#include "storage/ssd/ssd_format.h"

#include <xxhash.h>

#include <cstring>

#include "rpc/serialize.h"
#include "runtime/assert.h"
#include "runtime/error.h"

namespace keel::ssd_format {
namespace {

constexpr size_t checksum_bytes = sizeof(uint64_t);
constexpr uint8_t kind_single = 0;
constexpr uint8_t kind_entries = 1;

uint64_t record_checksum(std::string_view record_key, std::string_view body) {
  return XXH3_64bits_withSeed(body.data(), body.size(), XXH3_64bits(record_key.data(), record_key.size()));
}

void store_checksum(std::string& bytes, uint64_t checksum) { std::memcpy(bytes.data(), &checksum, sizeof(checksum)); }

uint64_t load_checksum(std::string_view bytes) {
  uint64_t checksum = 0;
  std::memcpy(&checksum, bytes.data(), sizeof(checksum));
  return checksum;
}

// Decoding runs on blocking-work threads, which emit no trace events: the caller says what failed.
[[noreturn]] void corrupt(std::string_view /*what*/) { throw Error(errc::checksum_failed); }

std::vector<Entry> decode_entries(std::string_view record_key, std::string_view body) {
  std::vector<Entry> entries;
  BinaryReader reader(body);
  uint32_t count = 0;
  reader(count);
  if (count == 0) corrupt("EmptyRecord");
  for (uint32_t i = 0; i < count; ++i) {
    Entry entry;
    reader(entry.suffix, entry.value);
    if (!entries.empty() && !(entries.back().suffix < entry.suffix)) corrupt("EntryOrder");
    entries.push_back(std::move(entry));
  }
  reader.expect_end();
  // Only a full-length record key can have keys longer than itself.
  if (record_key.size() < record_key_bytes_max && (count != 1 || !entries[0].suffix.empty())) corrupt("ShortKeySuffix");
  return entries;
}

}  // namespace

std::string_view record_key(std::string_view key) { return key.substr(0, std::min(key.size(), record_key_bytes_max)); }

std::string encode_record(std::string_view record_key, const std::vector<Entry>& entries) {
  KEEL_ASSERT(!entries.empty() && record_key.size() <= record_key_bytes_max);
  std::string bytes(checksum_bytes, '\0');
  if (entries.size() == 1 && entries[0].suffix.empty()) {
    bytes.push_back(static_cast<char>(kind_single));
    bytes.append(entries[0].value);
  } else {
    KEEL_ASSERT(record_key.size() == record_key_bytes_max);
    BinaryWriter writer;
    writer(kind_entries, static_cast<uint32_t>(entries.size()));
    for (size_t i = 0; i < entries.size(); ++i) {
      KEEL_ASSERT(i == 0 || entries[i - 1].suffix < entries[i].suffix);
      writer(entries[i].suffix, entries[i].value);
    }
    bytes.append(writer.buffer());
  }
  store_checksum(bytes, record_checksum(record_key, std::string_view(bytes).substr(checksum_bytes)));
  return bytes;
}

std::vector<Entry> decode_record(std::string_view record_key, std::string_view bytes) {
  if (bytes.size() < checksum_bytes + 1) corrupt("ShortRecord");
  const std::string_view body = bytes.substr(checksum_bytes);
  if (record_checksum(record_key, body) != load_checksum(bytes)) corrupt("RecordChecksum");
  const auto kind = static_cast<uint8_t>(body[0]);
  if (kind == kind_single) return {Entry{std::string(), std::string(body.substr(1))}};
  if (kind != kind_entries) corrupt("RecordKind");
  try {
    return decode_entries(record_key, body.substr(1));
  } catch (const Error& error) {
    if (error.code() != errc::serialization_failed) throw;
    corrupt("RecordEntries");
  }
}

std::string encode_meta(const Meta& meta) {
  BinaryWriter writer;
  writer(uint64_t{0}, meta_magic, meta_format_version, meta.logical_bytes, meta.entry_count, meta.commits);
  std::string bytes = writer.take();
  store_checksum(bytes, XXH3_64bits(bytes.data() + checksum_bytes, bytes.size() - checksum_bytes));
  return bytes;
}

Meta decode_meta(std::string_view bytes) {
  if (bytes.size() < checksum_bytes) corrupt("ShortMeta");
  if (XXH3_64bits(bytes.data() + checksum_bytes, bytes.size() - checksum_bytes) != load_checksum(bytes)) {
    corrupt("MetaChecksum");
  }
  Meta meta;
  try {
    BinaryReader reader(bytes.substr(checksum_bytes));
    uint64_t magic = 0;
    uint32_t version = 0;
    reader(magic, version);
    if (magic != meta_magic) corrupt("MetaMagic");
    if (version != meta_format_version) throw Error(errc::io_error);
    reader(meta.logical_bytes, meta.entry_count, meta.commits);
    reader.expect_end();
  } catch (const Error& error) {
    if (error.code() != errc::serialization_failed) throw;
    corrupt("Meta");
  }
  if (meta.logical_bytes < 0 || meta.entry_count < 0 || meta.commits < 0) corrupt("MetaCounts");
  return meta;
}

}  // namespace keel::ssd_format
