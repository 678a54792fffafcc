// The simulated disk: one file system per simulated machine, shared by its processes.
//
// Each file keeps what a read sees now (`current`) and what survived the last sync
// (`durable`), plus the writes and truncations issued since then in order. When the machine
// loses power each of those unsynced operations is, at random, applied, lost, or torn (only
// some of its 512-byte sectors reach the disk), and the result becomes the file. A process kill
// without power loss keeps everything (the page cache survives). Creating, renaming and
// deleting files is durable at once. Operations complete after a random latency.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/random.h"
#include "world/world.h"

namespace keel::sim {

inline constexpr int64_t sector_bytes = 512;

struct SimFileData {
  struct Operation {
    int64_t offset = 0;
    std::string data;               // a write
    std::optional<int64_t> resize;  // or a truncation
  };
  std::string current;
  std::string durable;
  std::vector<Operation> unsynced;  // the operations issued after the first `synced` of them
  uint64_t issued = 0;              // operations ever issued
  uint64_t synced = 0;              // how many of those are durable (a prefix)

  void write(int64_t offset, const std::string& data);
  void truncate(int64_t size);
  void sync();
  // Makes the first `count` operations ever issued durable, as a sync that started when `count`
  // had been issued does: later writes stay unsynced, as with fdatasync.
  void sync_through(uint64_t count);
  // Power loss: unsynced operations are each applied, lost or torn at random.
  void crash(DeterministicRandom& random);
};

class SimDisk {
 public:
  std::shared_ptr<SimFileData> find(const std::string& path) const;
  std::shared_ptr<SimFileData> create(const std::string& path);
  bool remove(const std::string& path);
  bool rename(const std::string& from, const std::string& to);
  std::vector<std::string> list(const std::string& directory) const;
  void create_directories(const std::string& path);
  // Removes the directory if it exists and is empty; false otherwise.
  bool remove_directory(const std::string& path);
  bool directory_exists(const std::string& path) const;

  void crash(DeterministicRandom& random);
  // Flips one random bit of one random non-empty file (bit rot); false if there is none.
  bool rot_one_bit(DeterministicRandom& random);
  // Deletes everything (a machine replaced by a new one).
  void wipe();

 private:
  std::map<std::string, std::shared_ptr<SimFileData>> files_;
  std::map<std::string, bool> directories_;
};

// An open file of a simulated process.
class SimFile final : public IFile {
 public:
  SimFile(std::shared_ptr<SimFileData> data, std::string path, bool writable)
      : data_(std::move(data)), path_(std::move(path)), writable_(writable) {}
  Future<std::string> read(int64_t offset, int64_t length) override;
  Future<Void> write(int64_t offset, std::string data) override;
  Future<Void> truncate(int64_t size) override;
  Future<Void> sync() override;
  Future<int64_t> size() override;
  const std::string& path() const override { return path_; }

 private:
  void check_writable() const;
  std::shared_ptr<SimFileData> data_;
  std::string path_;
  bool writable_;
};

// Latency of one simulated disk operation.
double disk_latency_seconds(bool is_sync);

}  // namespace keel::sim
