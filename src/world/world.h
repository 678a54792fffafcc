// The world: the one seam between KeelDB code and the outside (network, files, clocks, blocking
// work). Role, storage and client code reach the outside only through `world()`.
//
// Two implementations: RealWorld (asio, TCP, POSIX files, wall clock, a thread pool) and the
// simulator's per-process worlds (one thread, virtual time, injected faults). `world()` is the
// world of the process the current task runs in.
//
// Contracts:
// - Every asynchronous operation completes on the event loop thread, never inline in the call.
// - Cancelling (dropping) a pending read on a connection discards what it would have read:
//   close a connection whose read was cancelled.
// - File writes are durable only after `sync()` completes; a machine crash may lose, keep or
//   tear (at 512-byte sector granularity) any write not yet synced. Creating, renaming and
//   deleting files is durable when the call completes.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/future.h"
#include "runtime/random.h"
#include "world/network_address.h"

namespace keel {

// A reliable, ordered byte stream to one peer (TCP or simulated).
class IConnection {
 public:
  virtual ~IConnection() = default;
  // Queues bytes for sending; never blocks. Sending on a failed connection is a no-op.
  virtual void write(std::string bytes) = 0;
  // As write(), but the bytes may wait for the end of the event loop's pass, to go with what
  // the rest of the pass writes (a world without passes sends them as write() does).
  virtual void write_at_pass_end(std::string bytes) { write(std::move(bytes)); }
  // Bytes queued by write() and not yet handed to the network.
  virtual size_t bytes_unsent() const = 0;
  // Ready when bytes_unsent() drops to at most `bytes` (or the connection fails).
  virtual Future<Void> on_unsent_at_most(size_t bytes) = 0;
  // Some bytes (never empty); fails with connection_failed when the connection breaks or closes.
  virtual Future<std::string> read_some() = 0;
  // Closes both directions; pending and later reads fail with connection_failed.
  virtual void close() = 0;
  virtual NetworkAddress peer_address() const = 0;
};

class IListener {
 public:
  virtual ~IListener() = default;
  virtual Future<std::shared_ptr<IConnection>> accept() = 0;
  // The address actually bound (the port is chosen when 0 was asked for).
  virtual NetworkAddress address() const = 0;
};

namespace open_flags {
inline constexpr int read_only = 0;
inline constexpr int read_write = 1;
inline constexpr int create = 2;     // create if missing
inline constexpr int exclusive = 4;  // with create: fail with file_exists if present
}  // namespace open_flags

class IFile {
 public:
  virtual ~IFile() = default;
  // Up to `length` bytes from `offset` (fewer at the end of the file).
  virtual Future<std::string> read(int64_t offset, int64_t length) = 0;
  virtual Future<Void> write(int64_t offset, std::string data) = 0;
  virtual Future<Void> truncate(int64_t size) = 0;
  // Makes every completed write durable. A failed sync is fail-stop for the file.
  virtual Future<Void> sync() = 0;
  // write() then sync(), in one trip where the world can (a log's group commit).
  virtual Future<Void> write_and_sync(int64_t offset, std::string data);
  // The same (only the sync if `data` is empty) for a log's writes that commits wait on: the
  // real world runs them in order on its sync lane, which gathers those asked for during a sync
  // under the next one, or a small one on its event loop's own thread when the loop has nothing
  // else to do (RealWorld::write_and_sync_for_commit).
  virtual Future<Void> write_and_sync_for_commit(int64_t offset, std::string data);
  virtual Future<int64_t> size() = 0;
  virtual const std::string& path() const = 0;
};

// Process-local singletons (the RPC transport, the failure monitor) owned by the world of one
// process, destroyed with it (in the simulator: when the process is killed).
enum class LocalSlot : int { transport = 0, failure_monitor = 1, count = 2 };

// What a process holds in memory that the kernel cannot take back (resident anonymous pages:
// heap, stacks; not the page cache) and the budget it should stay within. Zero: not known (in
// simulation) or no budget.
struct ProcessMemory {
  int64_t used_bytes = 0;
  int64_t budget_bytes = 0;
};

class IWorld {
 public:
  virtual ~IWorld() = default;

  // Seconds on this process's wall clock (skewed per machine in simulation). Use only for
  // timestamps shown to people; use `now()` (the scheduler) for timing.
  virtual double wall_time() = 0;

  virtual Future<std::shared_ptr<IConnection>> connect(NetworkAddress address) = 0;
  // Throws bind_failed when the address is taken.
  virtual std::shared_ptr<IListener> listen(NetworkAddress address) = 0;
  // The address this process is reached at (its first listener's, or the simulated address).
  virtual NetworkAddress local_address() const = 0;

  virtual Future<std::shared_ptr<IFile>> open_file(std::string path, int flags) = 0;
  virtual Future<Void> delete_file(std::string path) = 0;
  virtual Future<Void> rename_file(std::string from, std::string to) = 0;
  virtual Future<bool> file_exists(std::string path) = 0;
  // Names (not paths) of the entries of a directory, sorted.
  virtual Future<std::vector<std::string>> list_directory(std::string path) = 0;
  virtual Future<Void> create_directories(std::string path) = 0;
  // Removes an empty directory; io_error when it is not empty or cannot be removed.
  virtual Future<Void> remove_directory(std::string path) = 0;

  // Runs `work` off the event loop (a thread pool; inline in simulation) and completes when done.
  // `work` must touch nothing owned by the event loop.
  virtual Future<Void> run_blocking(std::function<void()> work) = 0;

  // This process's memory and budget (docs/storage_engines.md, "Memory budget"); the budget alone
  // is cheap to ask for (0: none).
  virtual ProcessMemory process_memory() { return {}; }
  virtual int64_t memory_budget_bytes() const { return 0; }
  // Sends now what the connections hold for the end of the loop's pass (in the real world, the
  // messages written behind a burst's first: real_connection.cpp). For a role that has just answered a
  // burst of requests whose senders wait for the answers, so that the rest of the pass (other
  // roles' work in the same process) does not delay them. Simulated connections hold nothing.
  virtual void send_held_writes() {}

  std::shared_ptr<void>& local(LocalSlot slot) { return locals_[static_cast<int>(slot)]; }

 protected:
  // Destroys the locals in reverse slot order; call from the concrete world's destructor.
  void clear_locals() {
    for (int i = static_cast<int>(LocalSlot::count) - 1; i >= 0; --i) locals_[i].reset();
  }

 private:
  std::shared_ptr<void> locals_[static_cast<int>(LocalSlot::count)];
};

// The world of the process the current task runs in.
IWorld& world();
// Installed by each world implementation: maps the current task's process to its world.
void set_world_resolver(std::function<IWorld&()> resolver);

}  // namespace keel
