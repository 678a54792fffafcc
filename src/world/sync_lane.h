// SyncLane: the thread that makes commits' log writes durable in the real world.
//
// A commit waits for its log's write and sync (IFile::write_and_sync_for_commit). Handed to a
// pool, each write and sync is a trip of its own: a log keeps several in flight so that commits
// arriving during a sync need not wait for it to end, and the disk then serves overlapping
// syncs of one file, each slower than one alone. The lane instead takes every job queued while
// it was busy at once: it runs their writes, then syncs each of their files once, and answers
// them all. The syncs of a file thus run back to back, each covering whatever was written
// while the one before ran, and the thread never goes back to the event loop between them.
//
// A job's answer (its id, and the exception it failed with, if any) goes to the `finished`
// callback, on the lane's thread. A job is durable once answered without an exception: its
// write ran before a sync that began after it. A failed write fails its job only; a failed sync
// fails every job of that file in the round (the file is fail-stop above: RealFile).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "runtime/error.h"

namespace keel {

// An open POSIX descriptor, closed when the last user (the file, or work in flight) lets go.
struct FileDescriptor {
  int fd;
  explicit FileDescriptor(int descriptor) : fd(descriptor) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor();
};

// The Error for a failed system call's errno (file_not_found, file_exists, disk_full, else
// io_error).
Error errno_error(int error_number);
// Writes all of `data` at `offset` (retrying short writes); throws the errno's Error.
void write_fully(int fd, int64_t offset, std::string_view data);
// fdatasync(2); throws the errno's Error.
void sync_data(int fd);

class SyncLane {
 public:
  struct Job {
    uint64_t id = 0;
    std::function<void()> write;           // puts the job's bytes in the file (no sync)
    std::shared_ptr<FileDescriptor> file;  // synced after the write (null: nothing to sync)
  };
  // Answers in job order: each job's id, and what it threw (null: durable).
  using Answers = std::vector<std::pair<uint64_t, std::exception_ptr>>;
  using Finished = std::function<void(Answers)>;

  explicit SyncLane(Finished finished);
  // Runs and answers every job still queued, then ends the thread.
  ~SyncLane();
  SyncLane(const SyncLane&) = delete;
  SyncLane& operator=(const SyncLane&) = delete;

  // Queues `jobs` together: the lane takes them in one round unless one is running.
  void add(std::vector<Job> jobs);
  // One round on the calling thread: every job's write, then one sync per file; the answers in
  // job order. Adds the syncs run to `*syncs`.
  static Answers run_round(std::vector<Job>& jobs, uint64_t* syncs);
  // Syncs run so far (fewer than jobs when rounds gathered several of a file).
  uint64_t syncs() const;
  // True while the lane runs a round or holds jobs (a job added now would join the next round).
  bool busy() const { return busy_.load(std::memory_order_acquire); }

 private:
  void run();

  Finished finished_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Job> queued_;
  bool stopping_ = false;
  std::atomic<bool> busy_{false};
  uint64_t syncs_ = 0;
  std::thread thread_;  // last: starts once the rest exists
};

}  // namespace keel
