// RealWorld: the world on a real machine. One asio event loop on the calling thread drives the
// scheduler; TCP sockets; POSIX files (pread/pwrite/fdatasync) whose calls run on a thread pool
// whose completions come back onto the loop; the steady clock for now() and the system clock for
// wall_time(). The pool's threads mostly wait on the disk, so it has several: a log's append or
// sync must not queue behind a storage engine's long commit. A commit's write and sync runs on
// the sync lane, a thread of its own that gathers them (sync_lane.h), or on the loop's thread
// when the loop has nothing else to do (write_and_sync_for_commit).
//
// Lifetime: construct, then `run(until)` on the same thread; one RealWorld per thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "runtime/scheduler.h"
#include "world/sync_lane.h"
#include "world/world.h"

namespace keel {

class RealWorld final : public IWorld {
 public:
  explicit RealWorld(int blocking_threads = 8);
  ~RealWorld() override;

  // Runs the event loop until `until` is ready (or stop() is called).
  void run(Future<Void> until);
  void stop();
  void send_held_writes() override { end_writing_pass(); }
  // Ready with the signal number at the first SIGINT or SIGTERM (call once, before run()).
  Future<int> termination_signal();
  Scheduler& scheduler_ref() { return scheduler_; }

  double wall_time() override;
  Future<std::shared_ptr<IConnection>> connect(NetworkAddress address) override;
  std::shared_ptr<IListener> listen(NetworkAddress address) override;
  NetworkAddress local_address() const override { return local_address_; }
  Future<std::shared_ptr<IFile>> open_file(std::string path, int flags) override;
  Future<Void> delete_file(std::string path) override;
  Future<Void> rename_file(std::string from, std::string to) override;
  Future<bool> file_exists(std::string path) override;
  Future<std::vector<std::string>> list_directory(std::string path) override;
  Future<Void> create_directories(std::string path) override;
  Future<Void> remove_directory(std::string path) override;
  Future<Void> run_blocking(std::function<void()> work) override;
  // A commit's write and sync of `file` (IFile::write_and_sync_for_commit; `write` puts the bytes
  // in the file, `file` null: nothing to sync). It runs on the sync lane (sync_lane.h), or, if
  // `may_run_on_loop` (a small write), on the loop thread itself when, once the pass that asked
  // ends, the loop has nothing else to do (it would otherwise sleep until the lane woke it).
  // After one during which messages arrived, or that took over 10 ms, the next 100 go to the
  // lane at once.
  Future<Void> write_and_sync_for_commit(std::function<void()> write, std::shared_ptr<FileDescriptor> file,
                                         bool may_run_on_loop);
  // Above half the budget, also gives the heap's free pages back to the kernel (at most once a
  // second), so what is reported is what the process holds, not what its allocator kept.
  ProcessMemory process_memory() override;
  int64_t memory_budget_bytes() const override { return memory_budget_bytes_; }
  void set_memory_budget(int64_t bytes) { memory_budget_bytes_ = bytes; }

  struct Impl;

 private:
  double clock_seconds() const;
  void deliver_completed_blocking();
  // Runs the deferred syncs as one round on the loop if it is `idle` and the lane holds
  // nothing, else hands them all to the lane.
  void start_deferred_syncs(bool idle);
  // Hands every deferred sync to the lane (when run() returns, and at destruction).
  void hand_deferred_syncs_to_lane();
  // Answers blocking work `id` (at high priority) with `failure`, or success without one.
  void answer_blocking(uint64_t id, std::exception_ptr failure);
  // Lets the connections that wrote in this pass send what queued behind their writes.
  void end_writing_pass();

  std::unique_ptr<Impl> impl_;
  int64_t memory_budget_bytes_ = 0;
  double heap_trimmed_at_ = -1;
  // A busy loop runs asio's poll at most this often (RealWorld::run).
  static constexpr double io_poll_interval_seconds = 200e-6;
  double io_polled_at_ = -1;
  Scheduler scheduler_;
  ScopedScheduler install_scheduler_;
  DeterministicRandom random_;
  NetworkAddress local_address_;
  std::map<uint64_t, Promise<Void>> blocking_pending_;
  std::vector<SyncLane::Job> deferred_syncs_;  // in asking order
  // Syncs that go to the lane before the loop runs one itself again: set when messages arrived
  // while it did, or it took longer than loop_sync_seconds_max (write_and_sync_for_commit).
  int syncs_to_lane_ = 0;
  static constexpr int syncs_to_lane_after_arrivals = 100;
  static constexpr double loop_sync_seconds_max = 0.01;
  uint64_t next_blocking_id_ = 0;
  bool stopped_ = false;
};

}  // namespace keel
