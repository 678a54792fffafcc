// The memory engine's file format as pure functions: names, snapshots, and how a log scan tells a
// torn tail (dropped) from corruption (checksum_failed).
#include "storage/memory/memory_format.h"

#include <gtest/gtest.h>

#include "runtime/random.h"

namespace keel::memory_format {
namespace {

constexpr uint64_t salt = 0x5a17;

int error_code_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& error) {
    return error.code();
  }
  return errc::success;
}

TEST(MemoryFormatTest, FileNamesRoundTripAndOthersAreIgnored) {
  for (FileKind kind : {FileKind::snapshot, FileKind::temporary_snapshot, FileKind::log}) {
    for (uint64_t generation : {uint64_t{1}, uint64_t{42}, UINT64_MAX}) {
      const std::string name = file_name(kind, generation);
      EXPECT_EQ(parse_file_name(name), (FileName{kind, generation})) << name;
    }
  }
  EXPECT_EQ(file_name(FileKind::log, 7), "log-00000000000000000007");
  EXPECT_EQ(file_name(FileKind::temporary_snapshot, 7), "snapshot-00000000000000000007.tmp");
  for (const char* other : {"log-7", "snapshot-", "log-0000000000000000000x", "snapshot-00000000000000000007.old",
                            "LOCK", "log-000000000000000000070"}) {
    EXPECT_FALSE(parse_file_name(other)) << other;
  }
  EXPECT_FALSE(parse_file_name("log-99999999999999999999"));  // past UINT64_MAX
}

TEST(MemoryFormatTest, SnapshotRoundTripsAndEveryBitFlipIsDetected) {
  const std::map<Key, Value> data{{"", "empty key"}, {"a", ""}, {std::string("b\0c", 3), "v"}, {"\xff", "last"}};
  const std::string file = encode_snapshot(3, salt, data);
  const Snapshot snapshot = decode_snapshot(file);
  EXPECT_EQ(snapshot.generation, 3u);
  EXPECT_EQ(snapshot.log_salt, salt);
  EXPECT_EQ(snapshot.data, data);
  for (size_t bit = 0; bit < file.size() * 8; ++bit) {
    std::string rotten = file;
    rotten[bit / 8] = static_cast<char>(rotten[bit / 8] ^ (1 << (bit % 8)));
    EXPECT_EQ(error_code_of([&] { decode_snapshot(rotten); }), errc::checksum_failed) << "bit " << bit;
  }
  for (size_t length = 0; length < file.size(); ++length) {
    EXPECT_EQ(error_code_of([&] { decode_snapshot(file.substr(0, length)); }), errc::checksum_failed);
  }
}

// A log of `count` records of various sizes (some spanning several 512-byte sectors); `starts`
// gets each record's offset.
std::string make_log(int count, std::vector<uint64_t>& starts, std::vector<std::string>& payloads) {
  DeterministicRandom random(count);
  std::string log;
  for (int i = 0; i < count; ++i) {
    BinaryWriter payload;
    write_mutation(payload, MutationType::set_value, "key" + std::to_string(i),
                   random.random_bytes(static_cast<size_t>(i % 3 == 2 ? 1500 : 10 * i)));
    if (i % 2 == 1) write_mutation(payload, MutationType::clear_range, "a", "b");
    payloads.push_back(payload.take());
    starts.push_back(log.size());
    log += encode_log_record(payloads.back(), salt);
  }
  return log;
}

LogScan scan(std::string_view log, std::vector<std::string>* seen = nullptr) {
  return scan_log(log, salt, [&](std::string_view payload) {
    if (seen) seen->emplace_back(payload);
  });
}

TEST(MemoryFormatTest, ScanReadsEveryRecordInOrder) {
  std::vector<uint64_t> starts;
  std::vector<std::string> payloads;
  const std::string log = make_log(6, starts, payloads);
  std::vector<std::string> seen;
  const LogScan result = scan(log, &seen);
  EXPECT_EQ(seen, payloads);
  EXPECT_EQ(result.valid_bytes, log.size());
  EXPECT_EQ(result.records, 6u);
  EXPECT_FALSE(result.torn_tail);
  const std::vector<Mutation> mutations = decode_payload(payloads[1]);
  ASSERT_EQ(mutations.size(), 2u);
  EXPECT_EQ(mutations[1], (Mutation{MutationType::clear_range, "a", "b"}));
  // The same bytes under another generation's salt are no records at all.
  EXPECT_FALSE(log_record_payload_at(log, 0, salt + 1));
}

TEST(MemoryFormatTest, EveryCutOfTheLastRecordIsATornTail) {
  std::vector<uint64_t> starts;
  std::vector<std::string> payloads;
  const std::string log = make_log(6, starts, payloads);
  for (size_t length = starts.back(); length < log.size(); ++length) {
    const LogScan result = scan(std::string_view(log).substr(0, length));
    EXPECT_TRUE(result.torn_tail || length == starts.back()) << length;
    EXPECT_EQ(result.valid_bytes, starts.back()) << length;
    EXPECT_EQ(result.records, 5u);
  }
}

// Power loss tears an unsynced write at 512-byte sectors: each sector reaches the disk or not,
// and the file ends after the last sector that did.
TEST(MemoryFormatTest, SectorsOfTheLastRecordLostAtRandomAreATornTail) {
  std::vector<uint64_t> starts;
  std::vector<std::string> payloads;
  const std::string log = make_log(9, starts, payloads);  // the last record spans 4 sectors
  DeterministicRandom random(1);
  for (int trial = 0; trial < 500; ++trial) {
    std::string torn = log.substr(0, starts.back());
    bool all_kept = true;
    for (uint64_t sector = starts.back() - starts.back() % 512; sector < log.size(); sector += 512) {
      const uint64_t from = std::max(sector, starts.back());
      const uint64_t to = std::min<uint64_t>(sector + 512, log.size());
      if (random.coin(0.5)) {
        if (torn.size() < to) torn.resize(to, '\0');
        std::copy(log.begin() + static_cast<int64_t>(from), log.begin() + static_cast<int64_t>(to),
                  torn.begin() + static_cast<int64_t>(from));
      } else {
        all_kept = false;
      }
    }
    const LogScan result = scan(torn);
    EXPECT_EQ(result.records, all_kept ? 9u : 8u) << "trial " << trial;
    // Nothing is torn when no sector of the record reached the disk.
    EXPECT_EQ(result.torn_tail, !all_kept && torn.size() > starts.back()) << "trial " << trial;
  }
}

TEST(MemoryFormatTest, EveryBitFlipBeforeTheLastRecordIsCorruption) {
  std::vector<uint64_t> starts;
  std::vector<std::string> payloads;
  const std::string log = make_log(5, starts, payloads);
  for (uint64_t bit = 0; bit < log.size() * 8; ++bit) {
    std::string rotten = log;
    rotten[bit / 8] = static_cast<char>(rotten[bit / 8] ^ (1 << (bit % 8)));
    if (bit / 8 < starts.back()) {
      EXPECT_EQ(error_code_of([&] { scan(rotten); }), errc::checksum_failed) << "bit " << bit;
    } else {
      // In the last record, rot looks like a torn write: that one record is dropped.
      const LogScan result = scan(rotten);
      EXPECT_TRUE(result.torn_tail) << "bit " << bit;
      EXPECT_EQ(result.valid_bytes, starts.back()) << "bit " << bit;
    }
  }
}

TEST(MemoryFormatTest, ARecordForgedInsideAValueDoesNotMakeATornTailLookCorrupt) {
  // A value holding what would be a valid record if checksums were not salted, placed where the
  // scan looks for the next record when a zeroed header's length has bit 9 flipped: 12 + 512.
  BinaryWriter inner;
  write_mutation(inner, MutationType::set_value, "forged", "x");
  const std::string forged = encode_log_record(inner.take(), 0);
  constexpr size_t value_offset_in_payload = 1 + 4 + 1 + 4;  // type, key, value's length
  const std::string padding(512 - value_offset_in_payload, 'v');
  BinaryWriter payload;
  write_mutation(payload, MutationType::set_value, "k", padding + forged);
  // The record's first sector is lost (zeros), the rest reached the disk.
  std::string torn = encode_log_record(payload.take(), salt);
  std::fill(torn.begin(), torn.begin() + 512, '\0');
  ASSERT_TRUE(log_record_payload_at(torn, log_record_header_bytes + 512, 0));
  EXPECT_EQ(error_code_of([&] { scan_log(torn, 0, [](std::string_view) {}); }), errc::checksum_failed);
  const LogScan result = scan(torn);  // salted: the forgery is no record
  EXPECT_TRUE(result.torn_tail);
  EXPECT_EQ(result.valid_bytes, 0u);
}

TEST(MemoryFormatTest, UndecodablePayloadsAreCorrupt) {
  EXPECT_EQ(error_code_of([] { decode_payload("\x01\x02"); }), errc::checksum_failed);
  BinaryWriter atomic_op;
  atomic_op(MutationType::add, std::string("k"), std::string("1"));
  EXPECT_EQ(error_code_of([&] { decode_payload(atomic_op.buffer()); }), errc::checksum_failed);
  EXPECT_TRUE(decode_payload("").empty());
}

}  // namespace
}  // namespace keel::memory_format
