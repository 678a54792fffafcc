// RealWorld: the world on a real machine. One asio event loop on the calling thread drives the
// scheduler; TCP sockets; POSIX files (pread/pwrite/fdatasync) whose calls run on a thread pool
// whose completions come back onto the loop; the steady clock for now() and the system clock for
// wall_time(). The pool's threads mostly wait on the disk, so it has several: a log's append or
// sync must not queue behind a storage engine's long commit. A file's sync may run on the loop's
// thread instead, when the loop has nothing else to do (run_blocking_or_when_idle).
//
// Lifetime: construct, then `run(until)` on the same thread; one RealWorld per thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "runtime/scheduler.h"
#include "world/world.h"

namespace keel {

class RealWorld final : public IWorld {
 public:
  explicit RealWorld(int blocking_threads = 8);
  ~RealWorld() override;

  // Runs the event loop until `until` is ready (or stop() is called).
  void run(Future<Void> until);
  void stop();
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
  // Like run_blocking, for a file's small write and sync that a commit waits on
  // (IFile::write_and_sync_for_commit): it runs on the loop thread itself if, once the pass that
  // asked ends, the loop has nothing else to do (it would otherwise sleep until the pool woke
  // it), else on the pool as run_blocking's work does. After one during which messages arrived,
  // or that took over 10 ms, the next 100 go to the pool at once.
  Future<Void> run_blocking_or_when_idle(std::function<void()> work);
  // Above half the budget, also gives the heap's free pages back to the kernel (at most once a
  // second), so what is reported is what the process holds, not what its allocator kept.
  ProcessMemory process_memory() override;
  int64_t memory_budget_bytes() const override { return memory_budget_bytes_; }
  void set_memory_budget(int64_t bytes) { memory_budget_bytes_ = bytes; }

  struct Impl;

 private:
  double clock_seconds() const;
  void deliver_completed_blocking();
  // Gives the loop's idle time to the first deferred sync, or the pool every deferred one.
  void start_deferred_blocking(bool idle);
  // Hands every deferred sync to the pool (when run() returns, and at destruction).
  void post_deferred_blocking();
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
  std::vector<std::pair<uint64_t, std::function<void()>>> deferred_blocking_;  // in asking order
  // Deferred syncs that go to the pool before the loop runs one itself again: set when messages
  // arrived while it did, or it took longer than loop_sync_seconds_max (run_blocking_or_when_idle).
  int syncs_to_pool_ = 0;
  static constexpr int syncs_to_pool_after_arrivals = 100;
  static constexpr double loop_sync_seconds_max = 0.01;
  uint64_t next_blocking_id_ = 0;
  bool stopped_ = false;
};

}  // namespace keel
