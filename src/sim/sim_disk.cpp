#include "sim/sim_disk.h"

#include <algorithm>

#include "runtime/error.h"
#include "runtime/scheduler.h"

namespace keel::sim {
namespace {

void apply_write(std::string& file, int64_t offset, std::string_view data) {
  const auto end = static_cast<size_t>(offset) + data.size();
  if (file.size() < end) file.resize(end, '\0');
  std::copy(data.begin(), data.end(), file.begin() + offset);
}

// The parent directory of a path ("" for a bare name).
std::string parent_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

}  // namespace

void SimFileData::write(int64_t offset, const std::string& data) {
  apply_write(current, offset, data);
  unsynced.push_back(Operation{offset, data, std::nullopt});
  ++issued;
}

void SimFileData::truncate(int64_t size) {
  current.resize(static_cast<size_t>(size), '\0');
  unsynced.push_back(Operation{0, {}, size});
  ++issued;
}

void SimFileData::sync() { sync_through(issued); }

void SimFileData::sync_through(uint64_t count) {
  if (count <= synced) return;
  const auto covered = static_cast<std::ptrdiff_t>(count - synced);
  for (auto operation = unsynced.begin(); operation != unsynced.begin() + covered; ++operation) {
    if (operation->resize) {
      durable.resize(static_cast<size_t>(*operation->resize), '\0');
    } else {
      apply_write(durable, operation->offset, operation->data);
    }
  }
  unsynced.erase(unsynced.begin(), unsynced.begin() + covered);
  synced = count;
}

void SimFileData::crash(DeterministicRandom& random) {
  std::string result = durable;
  for (const Operation& operation : unsynced) {
    const double fate = random.random01();
    if (fate < 0.35) continue;  // lost
    if (operation.resize) {
      result.resize(static_cast<size_t>(*operation.resize), '\0');
      continue;
    }
    if (fate < 0.7) {
      apply_write(result, operation.offset, operation.data);  // kept whole
      continue;
    }
    // Torn: each sector the write touches reaches the disk or not.
    const int64_t end = operation.offset + static_cast<int64_t>(operation.data.size());
    for (int64_t sector = operation.offset - operation.offset % sector_bytes; sector < end; sector += sector_bytes) {
      if (!random.coin(0.5)) continue;
      const int64_t from = std::max(sector, operation.offset);
      const int64_t to = std::min(sector + sector_bytes, end);
      apply_write(result, from, std::string_view(operation.data).substr(static_cast<size_t>(from - operation.offset),
                                                                         static_cast<size_t>(to - from)));
    }
  }
  current = result;
  durable = std::move(result);
  unsynced.clear();
  synced = issued;
}

std::shared_ptr<SimFileData> SimDisk::find(const std::string& path) const {
  auto it = files_.find(path);
  return it == files_.end() ? nullptr : it->second;
}

std::shared_ptr<SimFileData> SimDisk::create(const std::string& path) {
  auto data = std::make_shared<SimFileData>();
  files_[path] = data;
  return data;
}

bool SimDisk::remove(const std::string& path) { return files_.erase(path) > 0; }

bool SimDisk::rename(const std::string& from, const std::string& to) {
  auto it = files_.find(from);
  if (it == files_.end()) return false;
  std::shared_ptr<SimFileData> data = it->second;
  files_.erase(it);
  files_[to] = data;
  return true;
}

std::vector<std::string> SimDisk::list(const std::string& directory) const {
  std::vector<std::string> names;
  const std::string prefix = directory.empty() || directory.back() == '/' ? directory : directory + "/";
  for (const auto& [path, data] : files_) {
    if (path.compare(0, prefix.size(), prefix) == 0 && path.find('/', prefix.size()) == std::string::npos) {
      names.push_back(path.substr(prefix.size()));
    }
  }
  for (const auto& [path, present] : directories_) {
    if (parent_of(path) + "/" == prefix) names.push_back(path.substr(prefix.size()));
  }
  std::sort(names.begin(), names.end());
  return names;
}

void SimDisk::create_directories(const std::string& path) {
  for (std::string at = path; !at.empty() && at != "/"; at = parent_of(at)) directories_[at] = true;
}

bool SimDisk::remove_directory(const std::string& path) {
  if (directories_.count(path) == 0 || !list(path).empty()) return false;
  directories_.erase(path);
  return true;
}

bool SimDisk::directory_exists(const std::string& path) const { return directories_.count(path) > 0; }

void SimDisk::crash(DeterministicRandom& random) {
  for (auto& [path, data] : files_) data->crash(random);
}

bool SimDisk::rot_one_bit(DeterministicRandom& random) {
  std::vector<SimFileData*> candidates;
  for (auto& [path, data] : files_) {
    if (!data->durable.empty()) candidates.push_back(data.get());
  }
  if (candidates.empty()) return false;
  SimFileData* victim = candidates[static_cast<size_t>(random.random_int(0, static_cast<int64_t>(candidates.size())))];
  const auto at = static_cast<size_t>(random.random_int(0, static_cast<int64_t>(victim->durable.size())));
  const auto bit = static_cast<char>(1 << random.random_int(0, 8));
  victim->durable[at] ^= bit;
  victim->current = victim->durable;
  victim->unsynced.clear();
  victim->synced = victim->issued;
  return true;
}

void SimDisk::wipe() {
  files_.clear();
  directories_.clear();
}

double disk_latency_seconds(bool is_sync) {
  DeterministicRandom& random = deterministic_random();
  return is_sync ? 0.0005 + random.random01() * 0.002 : 0.00005 + random.random01() * 0.0002;
}

void SimFile::check_writable() const {
  if (!writable_) throw Error(errc::io_error);
}

Future<std::string> SimFile::read(int64_t offset, int64_t length) {
  co_await delay(disk_latency_seconds(false));
  const std::string& contents = data_->current;
  if (offset >= static_cast<int64_t>(contents.size())) co_return std::string();
  co_return contents.substr(static_cast<size_t>(offset), static_cast<size_t>(length));
}

Future<Void> SimFile::write(int64_t offset, std::string data) {
  check_writable();
  co_await delay(disk_latency_seconds(false));
  data_->write(offset, data);
  co_return Void{};
}

Future<Void> SimFile::truncate(int64_t size) {
  check_writable();
  co_await delay(disk_latency_seconds(false));
  data_->truncate(size);
  co_return Void{};
}

// Covers what was written before it started, not the writes issued while it runs.
Future<Void> SimFile::sync() {
  check_writable();
  const uint64_t issued = data_->issued;
  co_await delay(disk_latency_seconds(true));
  data_->sync_through(issued);
  co_return Void{};
}

Future<int64_t> SimFile::size() {
  co_await delay(disk_latency_seconds(false));
  co_return static_cast<int64_t>(data_->current.size());
}

}  // namespace keel::sim
