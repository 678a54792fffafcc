// LmdbStore (lmdb_store.h): LMDB transactions, records of ssd_format.h, map growth, verification.
// Runs on the world's blocking-work threads, so it emits no trace events itself: failures are
// kept for take_failure() and traced by the engine on the event loop.
#include "storage/ssd/lmdb_store.h"

#include <fcntl.h>
#include <lmdb.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <functional>
#include <utility>

#include <fmt/format.h>

#include "runtime/assert.h"
#include "runtime/error.h"

namespace keel::ssd {
namespace format = ssd_format;

namespace {

// Thrown inside a commit attempt when the map is full; never leaves LmdbStore.
struct MapFull {};

MDB_val to_val(std::string_view bytes) { return MDB_val{bytes.size(), const_cast<char*>(bytes.data())}; }
std::string_view view(const MDB_val& value) { return {static_cast<const char*>(value.mv_data), value.mv_size}; }

// The LMDB key of a record (ssd_format.h): LMDB keys cannot be empty.
std::string lmdb_key(std::string_view record_key) {
  std::string key(1, format::lmdb_key_tag);
  key.append(record_key);
  return key;
}
// The record key of an LMDB key. A damaged tag makes the record's checksum fail.
std::string_view record_key_of(const MDB_val& key) { return view(key).substr(std::min<size_t>(key.mv_size, 1)); }

// Bytes this thread has caused to be written to storage so far (Linux task I/O accounting,
// counted when pages are dirtied), or -1 when the kernel does not report it.
int64_t thread_write_bytes() {
  const int fd = ::open("/proc/thread-self/io", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char buffer[1024];
  const ssize_t length = ::read(fd, buffer, sizeof(buffer) - 1);
  ::close(fd);
  if (length <= 0) return -1;
  buffer[length] = '\0';
  const char* field = std::strstr(buffer, "\nwrite_bytes: ");
  if (field == nullptr) return -1;
  return std::strtoll(field + std::strlen("\nwrite_bytes: "), nullptr, 10);
}

// The entries of a record; a record that does not verify is reported through `corrupt` (which throws).
std::vector<format::Entry> decode_or_report(std::string_view record_key, std::string_view data,
                                            const std::function<void(const std::string&)>& corrupt) {
  try {
    return format::decode_record(record_key, data);
  } catch (const Error& error) {
    if (error.code() != errc::checksum_failed) throw;
  }
  corrupt(fmt::format("the record at a key of {} bytes does not verify", record_key.size()));
  throw Error(errc::checksum_failed);
}

std::vector<format::Entry>::iterator find_suffix(std::vector<format::Entry>& entries, std::string_view suffix) {
  return std::lower_bound(entries.begin(), entries.end(), suffix,
                          [](const format::Entry& entry, std::string_view wanted) { return entry.suffix < wanted; });
}

}  // namespace

struct LmdbStore::Txn {
  std::shared_lock<std::shared_mutex> lock;
  LmdbStore* store;
  MDB_txn* txn = nullptr;
  Txn(LmdbStore& owner, bool write) : lock(owner.resize_), store(&owner) {
    if (store->env_ == nullptr) store->fail_closed();
    store->fail(mdb_txn_begin(store->env_, nullptr, write ? 0 : MDB_RDONLY, &txn), "mdb_txn_begin");
  }
  ~Txn() {
    if (txn != nullptr) mdb_txn_abort(txn);
  }
  void commit() {
    MDB_txn* committing = std::exchange(txn, nullptr);
    store->fail(mdb_txn_commit(committing), "mdb_txn_commit");
  }
};

namespace {

class Cursor {
 public:
  Cursor(MDB_txn* txn, unsigned dbi, const std::function<void(int, const char*)>& check) {
    check(mdb_cursor_open(txn, dbi, &cursor_), "mdb_cursor_open");
  }
  ~Cursor() { mdb_cursor_close(cursor_); }
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;
  MDB_cursor* get() const { return cursor_; }

 private:
  MDB_cursor* cursor_ = nullptr;
};

}  // namespace

// ---- Errors ----

void LmdbStore::fail(int rc, const char* call) {
  if (rc == MDB_SUCCESS) return;
  if (rc == MDB_MAP_FULL) throw MapFull{};
  {
    std::lock_guard<std::mutex> guard(failure_mutex_);
    failure_ = fmt::format("{}: {} (in {})", call, mdb_strerror(rc), directory_);
  }
  const bool corrupt = rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND || rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH;
  if (rc == ENOSPC || rc == EDQUOT) throw Error(errc::disk_full);
  throw Error(corrupt ? errc::checksum_failed : errc::io_error);
}

void LmdbStore::fail_closed() {
  {
    std::lock_guard<std::mutex> guard(failure_mutex_);
    failure_ = fmt::format("the LMDB environment is closed: opening it again failed (in {})", directory_);
  }
  throw Error(errc::io_error);
}

void LmdbStore::fail_corrupt(const std::string& what) {
  {
    std::lock_guard<std::mutex> guard(failure_mutex_);
    failure_ = fmt::format("{} (in {})", what, directory_);
  }
  throw Error(errc::checksum_failed);
}

std::string LmdbStore::take_failure() {
  std::lock_guard<std::mutex> guard(failure_mutex_);
  return std::exchange(failure_, std::string());
}

// ---- Records through a cursor ----

namespace {

// The user entries of the data database in one direction, over a read transaction's cursor.
// Checks the order of records as it goes (a B-tree page damaged so that LMDB routes a search to
// the wrong leaf shows up as a record out of place).
class RecordSource final : public EntrySource {
 public:
  RecordSource(MDB_cursor* cursor, bool reverse, std::function<void(int, const char*)> check,
               std::function<void(const std::string&)> corrupt)
      : cursor_(cursor), reverse_(reverse), check_(std::move(check)), corrupt_(std::move(corrupt)) {}

  enum class Seek { found, at_last, empty };
  // Positions the cursor at the first record >= `record_key` and checks that the record before it
  // is below `record_key`; with no such record, at the last record (at_last) if there is one.
  Seek seek_record(std::string_view record_key, MDB_val& key, MDB_val& data) {
    const std::string target = lmdb_key(record_key);
    key = to_val(target);
    const int rc = mdb_cursor_get(cursor_, &key, &data, MDB_SET_RANGE);
    if (rc == MDB_NOTFOUND) {
      const int last = mdb_cursor_get(cursor_, &key, &data, MDB_LAST);
      if (last == MDB_NOTFOUND) return Seek::empty;
      check_(last, "mdb_cursor_get");
      if (!(view(key) < target)) corrupt_("record order: the last record is past a search that found none");
      return Seek::at_last;
    }
    check_(rc, "mdb_cursor_get");
    const std::string found(view(key));
    MDB_val before_key;
    MDB_val before_data;
    const int before = mdb_cursor_get(cursor_, &before_key, &before_data, MDB_PREV);
    if (before != MDB_NOTFOUND) {
      check_(before, "mdb_cursor_get");
      if (!(view(before_key) < target)) corrupt_("record order: a search skipped records");
    }
    key = to_val(found);
    check_(mdb_cursor_get(cursor_, &key, &data, MDB_SET_KEY), "mdb_cursor_get");
    return Seek::found;
  }

  void seek(const Key& target) override {
    MDB_val key;
    MDB_val data;
    valid_ = false;
    const Seek seeked = seek_record(format::record_key(target), key, data);
    // Forward, the last record is below the target; reverse, it is where to start.
    if (seeked == Seek::empty || (seeked == Seek::at_last && !reverse_)) return;
    load(key, data);
    valid_ = true;
    while (valid_ && (reverse_ ? key_ >= target : key_ < target)) next();
  }
  bool valid() const override { return valid_; }
  const Key& key() const override { return key_; }
  const Value& value() const override { return entries_[index_].value; }
  void next() override {
    KEEL_ASSERT(valid_);
    if (!reverse_ && index_ + 1 < entries_.size()) return at(index_ + 1);
    if (reverse_ && index_ > 0) return at(index_ - 1);
    MDB_val key;
    MDB_val data;
    const int rc = mdb_cursor_get(cursor_, &key, &data, reverse_ ? MDB_PREV : MDB_NEXT);
    if (rc == MDB_NOTFOUND) {
      valid_ = false;
      return;
    }
    check_(rc, "mdb_cursor_get");
    const bool in_order = reverse_ ? record_key_of(key) < record_key_ : record_key_ < record_key_of(key);
    if (!in_order) corrupt_("record order: records out of order");
    load(key, data);
  }

 private:
  void load(const MDB_val& key, const MDB_val& data) {
    record_key_.assign(record_key_of(key));
    entries_ = decode_or_report(record_key_, view(data), corrupt_);
    at(reverse_ ? entries_.size() - 1 : 0);
  }
  void at(size_t index) {
    index_ = index;
    key_ = record_key_ + entries_[index].suffix;
  }

  MDB_cursor* cursor_;
  bool reverse_;
  std::function<void(int, const char*)> check_;
  std::function<void(const std::string&)> corrupt_;
  bool valid_ = false;
  std::string record_key_;
  std::vector<format::Entry> entries_;
  size_t index_ = 0;
  Key key_;
};

}  // namespace

// ---- Open ----

void LmdbStore::open() {
  KEEL_ASSERT(env_ == nullptr);
  const std::string& directory = directory_;
  const LmdbOptions& options = options_;
  struct stat info {};
  const bool exists = ::stat((directory + "/data.mdb").c_str(), &info) == 0;
  map_bytes_ = std::max<int64_t>(options.map_bytes_initial, exists ? 2 * static_cast<int64_t>(info.st_size) : 0);
  try {
    open_environment();
    KEEL_ASSERT(mdb_env_get_maxkeysize(env_) >= static_cast<int>(format::record_key_bytes_max));
    MDB_envinfo env_info{};
    MDB_stat env_stat{};
    fail(mdb_env_info(env_, &env_info), "mdb_env_info");
    fail(mdb_env_stat(env_, &env_stat), "mdb_env_stat");
    map_bytes_ = static_cast<int64_t>(env_info.me_mapsize);
    page_bytes_ = static_cast<int64_t>(env_stat.ms_psize);
    const auto needed = static_cast<int64_t>((env_info.me_last_pgno + 1) * env_stat.ms_psize);
    if (file_bytes() < needed) {
      fail_corrupt(fmt::format("data file truncated: {} bytes, but its pages need {}", file_bytes(), needed));
    }
    read_meta();
    if (exists && file_bytes() <= options.verify_bytes_max) {
      Txn txn(*this, false);
      verify_all(txn.txn);
      verified_at_open_ = true;
    }
  } catch (...) {
    mdb_env_close(std::exchange(env_, nullptr));
    throw;
  }
  opened_meta_ = meta_;
  opened_file_bytes_ = file_bytes();
}

void LmdbStore::open_environment() {
  fail(mdb_env_create(&env_), "mdb_env_create");
  fail(mdb_env_set_maxdbs(env_, 2), "mdb_env_set_maxdbs");
  fail(mdb_env_set_mapsize(env_, static_cast<size_t>(map_bytes_)), "mdb_env_set_mapsize");
  // No read-ahead: point reads of a map larger than memory otherwise pull megabytes per
  // lookup (bench/engines.sh measured 8.6 MiB read per point read under a 256 MiB cap).
  fail(mdb_env_open(env_, directory_.c_str(), MDB_NOTLS | MDB_NORDAHEAD, 0644), "mdb_env_open");
}

// LMDB keeps the buffer of every page a write transaction dirtied, for later transactions, until
// the environment closes: one large commit would hold its peak for good. Closing and opening
// again gives them back (the data stays in the page cache). Runs with no transaction open.
void LmdbStore::reopen_environment() {
  std::unique_lock<std::shared_mutex> exclusive(resize_);
  mdb_env_close(std::exchange(env_, nullptr));
  try {
    open_environment();
    MDB_txn* txn = nullptr;
    fail(mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn), "mdb_txn_begin");
    int rc = mdb_dbi_open(txn, format::data_database.data(), 0, &data_dbi_);
    if (rc == MDB_SUCCESS) rc = mdb_dbi_open(txn, format::meta_database.data(), 0, &meta_dbi_);
    if (rc != MDB_SUCCESS) {
      mdb_txn_abort(txn);
      fail(rc, "mdb_dbi_open");
    }
    fail(mdb_txn_commit(txn), "mdb_txn_commit");  // keeps the database handles
  } catch (...) {
    if (env_ != nullptr) mdb_env_close(std::exchange(env_, nullptr));
    throw;
  }
}

LmdbStore::~LmdbStore() {
  if (env_ != nullptr) mdb_env_close(env_);
}

// Opens the two databases (creating them and the meta record in a new environment) and reads
// the meta record.
void LmdbStore::read_meta() {
  {
    Txn txn(*this, false);
    const int rc = mdb_dbi_open(txn.txn, format::data_database.data(), 0, &data_dbi_);
    if (rc != MDB_NOTFOUND) {
      fail(rc, "mdb_dbi_open");
      const int meta_rc = mdb_dbi_open(txn.txn, format::meta_database.data(), 0, &meta_dbi_);
      if (meta_rc == MDB_NOTFOUND) fail_corrupt("the meta database is missing");
      fail(meta_rc, "mdb_dbi_open");
      MDB_val key = to_val(format::meta_key);
      MDB_val data;
      const int get_rc = mdb_get(txn.txn, meta_dbi_, &key, &data);
      if (get_rc == MDB_NOTFOUND) fail_corrupt("the meta record is missing");
      fail(get_rc, "mdb_get");
      try {
        meta_ = format::decode_meta(view(data));
      } catch (const Error& error) {
        if (error.code() == errc::checksum_failed) fail_corrupt("the meta record does not verify");
        std::lock_guard<std::mutex> guard(failure_mutex_);
        failure_ = fmt::format("the data in {} has a format version this build cannot read", directory_);
        throw;
      }
      txn.commit();  // keeps the database handles
      return;
    }
  }
  Txn txn(*this, true);
  fail(mdb_dbi_open(txn.txn, format::data_database.data(), MDB_CREATE, &data_dbi_), "mdb_dbi_open");
  fail(mdb_dbi_open(txn.txn, format::meta_database.data(), MDB_CREATE, &meta_dbi_), "mdb_dbi_open");
  meta_ = format::Meta{};
  const std::string meta = format::encode_meta(meta_);
  MDB_val key = to_val(format::meta_key);
  MDB_val data = to_val(meta);
  fail(mdb_put(txn.txn, meta_dbi_, &key, &data, 0), "mdb_put");
  txn.commit();
}

// Reads every record: each must verify, records and entries must be in order, and the counts
// must match the meta record.
void LmdbStore::verify_all(MDB_txn* txn) {
  auto check = [this](int rc, const char* call) { fail(rc, call); };
  Cursor cursor(txn, data_dbi_, check);
  format::Meta counted;
  std::string previous;
  MDB_val key;
  MDB_val data;
  for (int rc = mdb_cursor_get(cursor.get(), &key, &data, MDB_FIRST); rc != MDB_NOTFOUND;
       rc = mdb_cursor_get(cursor.get(), &key, &data, MDB_NEXT)) {
    fail(rc, "mdb_cursor_get");
    if (counted.entry_count > 0 && !(previous < record_key_of(key))) fail_corrupt("records out of order");
    previous.assign(record_key_of(key));
    std::vector<format::Entry> entries =
        decode_or_report(previous, view(data), [this](const std::string& what) { fail_corrupt(what); });
    for (const format::Entry& entry : entries) {
      counted.logical_bytes += static_cast<int64_t>(previous.size() + entry.suffix.size() + entry.value.size());
      ++counted.entry_count;
    }
  }
  if (counted.logical_bytes != meta_.logical_bytes || counted.entry_count != meta_.entry_count) {
    fail_corrupt(fmt::format("records hold {} entries of {} bytes; the meta record says {} of {}", counted.entry_count,
                             counted.logical_bytes, meta_.entry_count, meta_.logical_bytes));
  }
}

// ---- Reads ----

std::optional<Value> LmdbStore::get(const Key& key) {
  Txn txn(*this, false);
  auto check = [this](int rc, const char* call) { fail(rc, call); };
  Cursor cursor(txn.txn, data_dbi_, check);
  RecordSource source(cursor.get(), false, check, [this](const std::string& what) { fail_corrupt(what); });
  const std::string_view record_key = format::record_key(key);
  MDB_val found_key;
  MDB_val data;
  const bool found = source.seek_record(record_key, found_key, data) == RecordSource::Seek::found;
  if (!found || record_key_of(found_key) != record_key) return std::nullopt;
  std::vector<format::Entry> entries =
      decode_or_report(record_key, view(data), [this](const std::string& what) { fail_corrupt(what); });
  auto it = find_suffix(entries, std::string_view(key).substr(record_key.size()));
  if (it == entries.end() || it->suffix != std::string_view(key).substr(record_key.size())) return std::nullopt;
  return std::move(it->value);
}

std::vector<KeyValue> LmdbStore::get_range(const std::vector<const Overlay*>& newest_first, const KeyRange& range,
                                           int limit, bool reverse, size_t bytes_limit) {
  Txn txn(*this, false);
  auto check = [this](int rc, const char* call) { fail(rc, call); };
  Cursor cursor(txn.txn, data_dbi_, check);
  RecordSource source(cursor.get(), reverse, check, [this](const std::string& what) { fail_corrupt(what); });
  return merged_range(newest_first, source, range, limit, reverse, bytes_limit);
}

// ---- Commit ----

namespace {

// Writes to the data database inside one write transaction, keeping the meta counts.
class RecordWriter {
 public:
  RecordWriter(MDB_txn* txn, unsigned dbi, format::Meta& meta, std::function<void(int, const char*)> check,
               std::function<void(const std::string&)> corrupt)
      : txn_(txn), dbi_(dbi), meta_(meta), check_(std::move(check)), corrupt_(std::move(corrupt)) {}

  // Records put so far: each dirties at most one leaf page (and shares the pages above it).
  int64_t records_stored() const { return records_stored_; }

  // Sets (or with nullopt clears) one user key.
  void write(const Key& key, const std::optional<Value>& value) {
    const std::string_view record_key = format::record_key(key);
    const std::string_view suffix = std::string_view(key).substr(record_key.size());
    std::vector<format::Entry> entries = read(record_key);
    const bool existed = !entries.empty();
    auto it = find_suffix(entries, suffix);
    if (it != entries.end() && it->suffix == suffix) {
      meta_.logical_bytes -= static_cast<int64_t>(key.size() + it->value.size());
      --meta_.entry_count;
      it = entries.erase(it);
    } else if (!value) {
      return;  // clearing a key that is not there changes nothing
    }
    if (value) {
      entries.insert(it, format::Entry{std::string(suffix), *value});
      meta_.logical_bytes += static_cast<int64_t>(key.size() + value->size());
      ++meta_.entry_count;
    }
    store(record_key, entries, existed);
  }

  void clear_range(const KeyRange& range) {
    auto check = check_;
    Cursor cursor(txn_, dbi_, check);
    std::string position = lmdb_key(format::record_key(range.begin));
    MDB_val key;
    MDB_val data;
    while (true) {
      key = to_val(position);
      const int rc = mdb_cursor_get(cursor.get(), &key, &data, MDB_SET_RANGE);
      if (rc == MDB_NOTFOUND) return;
      check_(rc, "mdb_cursor_get");
      const std::string record_key(record_key_of(key));
      if (!(std::string_view(record_key) < std::string_view(range.end))) return;  // its keys are all >= record_key
      std::vector<format::Entry> entries = decode_or_report(record_key, view(data), corrupt_);
      const size_t before = entries.size();
      std::erase_if(entries, [&](const format::Entry& entry) {
        if (!range.contains(record_key + entry.suffix)) return false;
        meta_.logical_bytes -= static_cast<int64_t>(record_key.size() + entry.suffix.size() + entry.value.size());
        --meta_.entry_count;
        return true;
      });
      if (entries.size() != before) store(record_key, entries, true);
      position = lmdb_key(key_after(record_key));  // re-seek: the writes moved the cursor
    }
  }

 private:
  std::vector<format::Entry> read(std::string_view record_key) {
    const std::string lmdb = lmdb_key(record_key);
    MDB_val key = to_val(lmdb);
    MDB_val data;
    const int rc = mdb_get(txn_, dbi_, &key, &data);
    if (rc == MDB_NOTFOUND) return {};
    check_(rc, "mdb_get");
    return decode_or_report(record_key, view(data), corrupt_);
  }
  void store(std::string_view record_key, const std::vector<format::Entry>& entries, bool existed) {
    const std::string lmdb = lmdb_key(record_key);
    MDB_val key = to_val(lmdb);
    if (entries.empty()) {
      if (existed) check_(mdb_del(txn_, dbi_, &key, nullptr), "mdb_del");
      return;
    }
    const std::string record = format::encode_record(record_key, entries);
    MDB_val data = to_val(record);
    check_(mdb_put(txn_, dbi_, &key, &data, 0), "mdb_put");
    ++records_stored_;
  }

  MDB_txn* txn_;
  unsigned dbi_;
  format::Meta& meta_;
  int64_t records_stored_ = 0;
  std::function<void(int, const char*)> check_;
  std::function<void(const std::string&)> corrupt_;
};

}  // namespace

CommitStats LmdbStore::commit(const std::vector<const Overlay*>& oldest_first) {
  while (true) {
    try {
      return try_commit(oldest_first);
    } catch (const MapFull&) {
      grow_map();
    }
  }
}

CommitStats LmdbStore::try_commit(const std::vector<const Overlay*>& oldest_first) {
  const int64_t written_before = thread_write_bytes();
  format::Meta meta = meta_;
  int64_t records_stored = 0;
  {
    Txn txn(*this, true);
    RecordWriter writer(txn.txn, data_dbi_, meta, [this](int rc, const char* call) { fail(rc, call); },
                        [this](const std::string& what) { fail_corrupt(what); });
    for (const Overlay* overlay : oldest_first) {
      for (const auto& [begin, end] : overlay->clears) writer.clear_range(KeyRange{begin, end});
      for (const auto& [key, value] : overlay->points) writer.write(key, value);
    }
    KEEL_ASSERT(meta.logical_bytes >= 0 && meta.entry_count >= 0);
    ++meta.commits;
    const std::string meta_record = format::encode_meta(meta);
    MDB_val key = to_val(format::meta_key);
    MDB_val data = to_val(meta_record);
    fail(mdb_put(txn.txn, meta_dbi_, &key, &data, 0), "mdb_put");
    txn.commit();
    records_stored = writer.records_stored();
  }
  const int64_t written_after = thread_write_bytes();
  meta_ = meta;
  CommitStats stats;
  stats.meta = meta;
  if (written_before >= 0 && written_after >= written_before) stats.device_bytes_written = written_after - written_before;
  stats.file_bytes = file_bytes();
  if (records_stored * page_bytes_ > options_.reopen_after_dirty_bytes) {
    reopen_environment();
    ++stats.environment_reopens;
  }
  return stats;
}

void LmdbStore::grow_map() {
  std::unique_lock<std::shared_mutex> exclusive(resize_);
  const int64_t grown = map_bytes_ * 2;
  fail(mdb_env_set_mapsize(env_, static_cast<size_t>(grown)), "mdb_env_set_mapsize");
  map_bytes_ = grown;
}

int64_t LmdbStore::map_bytes() const { return map_bytes_; }

// ---- Files ----

void LmdbStore::copy_to(const std::string& directory) {
  std::shared_lock<std::shared_mutex> shared(resize_);
  if (env_ == nullptr) fail_closed();
  fail(mdb_env_copy2(env_, directory.c_str(), MDB_CP_COMPACT), "mdb_env_copy2");
}

int64_t LmdbStore::file_bytes() const {
  struct stat info {};
  if (::stat((directory_ + "/data.mdb").c_str(), &info) != 0) return 0;
  return static_cast<int64_t>(info.st_size);
}

}  // namespace keel::ssd
