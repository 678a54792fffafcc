#include "world/real_world.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include <asio.hpp>

#include "runtime/assert.h"
#include "runtime/trace.h"
#include "world/process_memory.h"
#include "world/real_connection.h"
#include "world/sync_lane.h"

namespace keel {

struct RealWorld::Impl {
  asio::io_context io;
  SocketReadiness readiness{io};
  // Connections that wrote in this pass of the loop (RealConnection::write_more), and those
  // being told that it ended.
  std::vector<std::shared_ptr<RealConnection>> held_writes;
  std::vector<std::shared_ptr<RealConnection>> ending_writes;
  asio::executor_work_guard<asio::io_context::executor_type> keep_running{io.get_executor()};
  asio::thread_pool pool;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  // Blocking work the pool finished (its id, and what it threw), for the loop to deliver.
  std::mutex completed_mutex;
  SyncLane::Answers completed;
  std::atomic<bool> any_completed{false};
  // Commits' writes and syncs the loop does not run itself.
  std::optional<SyncLane> lane;
  explicit Impl(int threads) : pool(static_cast<size_t>(threads)) {
    lane.emplace([this](SyncLane::Answers answers) { finish(std::move(answers)); });
  }
  // Hands answers of blocking work to the loop (from any thread). Only ids and exceptions
  // cross threads; Promises stay on the loop thread.
  void finish(SyncLane::Answers answers) {
    {
      const std::lock_guard<std::mutex> lock(completed_mutex);
      for (auto& answer : answers) completed.push_back(std::move(answer));
      any_completed.store(true, std::memory_order_release);
    }
    asio::post(io, [] {});  // wakes the loop if it waits for the network
  }
};

namespace {

// Runs blocking work `id` on the pool.
void post_to_pool(RealWorld::Impl* impl, uint64_t id, std::function<void()> work) {
  asio::post(impl->pool, [impl, id, work = std::move(work)] {
    std::exception_ptr failure;
    try {
      work();
    } catch (...) {
      failure = std::current_exception();
    }
    impl->finish(SyncLane::Answers{{id, std::move(failure)}});
  });
}

NetworkAddress to_address(const asio::ip::tcp::endpoint& endpoint) {
  return NetworkAddress{endpoint.address().to_v4().to_uint(), endpoint.port()};
}

asio::ip::tcp::endpoint to_endpoint(NetworkAddress address) {
  return asio::ip::tcp::endpoint(asio::ip::address_v4(address.ip), address.port);
}

// Answers `promise` with `socket`, connected, as a RealConnection.
void adopt_connection(const Promise<std::shared_ptr<IConnection>>& promise, asio::ip::tcp::socket socket,
                      NetworkAddress peer, SocketReadiness& readiness,
                      std::vector<std::shared_ptr<RealConnection>>& held_writes) {
  try {
    promise.send(RealConnection::adopt(std::move(socket), peer, readiness, held_writes));
  } catch (const Error& error) {
    promise.send_error(error);
  }
}

class RealListener final : public IListener {
 public:
  RealListener(asio::io_context& io, SocketReadiness& readiness,
               std::vector<std::shared_ptr<RealConnection>>& held_writes, NetworkAddress address)
      : acceptor_(io), readiness_(readiness), held_writes_(held_writes) {
    asio::error_code error;
    const auto endpoint = to_endpoint(address);
    acceptor_.open(endpoint.protocol(), error);
    if (!error) acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true), error);
    if (!error) acceptor_.bind(endpoint, error);
    if (!error) acceptor_.listen(asio::socket_base::max_listen_connections, error);
    if (error) {
      TraceEvent(Severity::warn_always, "NetworkBindFailed")
          .detail("Address", address.to_string())
          .detail("Reason", error.message());
      throw Error(errc::bind_failed);
    }
    address_ = to_address(acceptor_.local_endpoint());
  }
  Future<std::shared_ptr<IConnection>> accept() override {
    Promise<std::shared_ptr<IConnection>> promise;
    Future<std::shared_ptr<IConnection>> result = promise.get_future();
    auto* readiness = &readiness_;
    auto* held_writes = &held_writes_;
    acceptor_.async_accept([promise, readiness, held_writes](const asio::error_code& error, asio::ip::tcp::socket socket) {
      if (error) {
        promise.send_error(Error(errc::connection_failed));
        return;
      }
      asio::error_code peer_error;
      auto peer = socket.remote_endpoint(peer_error);
      adopt_connection(promise, std::move(socket), peer_error ? NetworkAddress{} : to_address(peer), *readiness,
                       *held_writes);
    });
    return result;
  }
  NetworkAddress address() const override { return address_; }

 private:
  asio::ip::tcp::acceptor acceptor_;
  SocketReadiness& readiness_;                                 // the world's
  std::vector<std::shared_ptr<RealConnection>>& held_writes_;  // the world's
  NetworkAddress address_;
};

// A POSIX file; every system call runs on the world's blocking pool, except a commit's write
// and sync, which the sync lane runs, or the loop itself when it has nothing else to do
// (write_and_sync_for_commit).
class RealFile final : public IFile {
 public:
  RealFile(RealWorld& world, std::shared_ptr<FileDescriptor> fd, std::string path)
      : world_(world), fd_(std::move(fd)), path_(std::move(path)) {}

  Future<std::string> read(int64_t offset, int64_t length) override {
    auto data = std::make_shared<std::string>(static_cast<size_t>(length), '\0');
    auto fd = fd_;
    auto work = [fd, offset, data] {
      size_t done = 0;
      while (done < data->size()) {
        const ssize_t n = ::pread(fd->fd, data->data() + done, data->size() - done,
                                  static_cast<off_t>(offset + static_cast<int64_t>(done)));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw errno_error(errno);
        if (n == 0) break;
        done += static_cast<size_t>(n);
      }
      data->resize(done);
    };
    co_await world_.run_blocking(std::move(work));
    co_return std::move(*data);
  }
  Future<Void> write(int64_t offset, std::string bytes) override {
    check_usable();
    auto data = std::make_shared<std::string>(std::move(bytes));
    auto fd = fd_;
    auto work = [fd, offset, data] { write_fully(fd->fd, offset, *data); };
    co_await world_.run_blocking(std::move(work));
    co_return Void{};
  }
  Future<Void> write_and_sync(int64_t offset, std::string bytes) override {
    check_usable();
    auto data = std::make_shared<std::string>(std::move(bytes));
    auto fd = fd_;
    auto work = [fd, offset, data] {
      write_fully(fd->fd, offset, *data);  // nothing when empty
      sync_data(fd->fd);
    };
    co_await fail_stop(world_.run_blocking(std::move(work)));
    co_return Void{};
  }
  Future<Void> write_and_sync_for_commit(int64_t offset, std::string bytes) override {
    check_usable();
    const bool small = bytes.size() <= loop_write_bytes_max;
    auto data = std::make_shared<std::string>(std::move(bytes));
    auto fd = fd_;
    std::function<void()> write = [fd, offset, data] { write_fully(fd->fd, offset, *data); };
    co_await fail_stop(world_.write_and_sync_for_commit(std::move(write), fd_, small));
    co_return Void{};
  }
  Future<Void> truncate(int64_t size) override {
    check_usable();
    auto fd = fd_;
    auto work = [fd, size] {
      if (::ftruncate(fd->fd, static_cast<off_t>(size)) != 0) throw errno_error(errno);
    };
    co_await world_.run_blocking(std::move(work));
    co_return Void{};
  }
  Future<Void> sync() override {
    check_usable();
    auto fd = fd_;
    auto work = [fd] { sync_data(fd->fd); };
    co_await fail_stop(world_.run_blocking(std::move(work)));
    co_return Void{};
  }
  Future<int64_t> size() override {
    auto result = std::make_shared<int64_t>(0);
    auto fd = fd_;
    auto work = [fd, result] {
      struct stat info {};
      if (::fstat(fd->fd, &info) != 0) throw errno_error(errno);
      *result = info.st_size;
    };
    co_await world_.run_blocking(std::move(work));
    co_return *result;
  }
  const std::string& path() const override { return path_; }

 private:
  void check_usable() const {
    if (failed_) throw Error(*failed_);
  }
  // A commit's write larger than this never runs on the loop's thread: it waits only for small
  // ones.
  static constexpr size_t loop_write_bytes_max = 256 * 1024;
  // Waits for `synced`, a write and sync (or a sync) of this file. Fail-stop: if it fails
  // nothing is retried, since the page cache may have dropped the data, and the file refuses
  // writes from then on.
  Future<Void> fail_stop(Future<Void> synced) {
    try {
      co_await synced;
    } catch (const Error& error) {
      failed_ = error.code() == errc::disk_full ? errc::disk_full : errc::io_error;
      TraceEvent(Severity::error, "FileSyncFailed").detail("Path", path_).error(error);
      throw;
    }
    co_return Void{};
  }

  RealWorld& world_;
  std::shared_ptr<FileDescriptor> fd_;
  std::string path_;
  std::optional<int> failed_;  // the failed sync's error code: later writes fail with it too
};

}  // namespace

RealWorld::RealWorld(int blocking_threads)
    : impl_(std::make_unique<Impl>(blocking_threads)),
      install_scheduler_(scheduler_),
      random_(nondeterministic_unique_id()) {
  set_deterministic_random(&random_);
  set_world_resolver([this]() -> IWorld& { return *this; });
  trace_log().set_clock([this] { return wall_time(); });
  trace_log().set_address_provider([this] { return local_address_.is_valid() ? local_address_.to_string() : std::string(); });
  scheduler_.advance_to(clock_seconds());
}

RealWorld::~RealWorld() {
  clear_locals();
  hand_deferred_syncs_to_lane();  // what was asked runs, as work handed over before did
  impl_->lane.reset();             // answers what it holds, then ends its thread
  impl_->pool.join();
  // Pending handlers hold promises: break them while the scheduler still exists.
  impl_.reset();
  blocking_pending_.clear();
  trace_log().set_clock(nullptr);
  trace_log().set_address_provider(nullptr);
  set_world_resolver(nullptr);
  set_deterministic_random(nullptr);
}

ProcessMemory RealWorld::process_memory() {
  ProcessMemory memory{resident_anonymous_bytes(), memory_budget_bytes_};
  const double now = clock_seconds();
  if (memory.budget_bytes > 0 && memory.used_bytes > memory.budget_bytes / 2 && now - heap_trimmed_at_ >= 1.0) {
    heap_trimmed_at_ = now;
    release_free_heap();
    memory.used_bytes = resident_anonymous_bytes();
  }
  return memory;
}

double RealWorld::clock_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - impl_->start).count();
}

double RealWorld::wall_time() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void RealWorld::stop() { stopped_ = true; }

Future<int> RealWorld::termination_signal() {
  auto signals = std::make_shared<asio::signal_set>(impl_->io, SIGINT, SIGTERM);
  Promise<int> promise;
  Future<int> result = promise.get_future();
  signals->async_wait([signals, promise](const asio::error_code& error, int signal_number) {
    if (error) return;  // the world is shutting down; the promise breaks
    promise.send(signal_number);
  });
  return result;
}

void RealWorld::run(Future<Void> until) {
  stopped_ = false;
  while (!stopped_ && !(until.is_valid() && until.is_ready())) {
    scheduler_.advance_to(std::max(scheduler_.now(), clock_seconds()));
    // Run what is due, but let the network in between long bursts. Finished blocking work is
    // delivered between any two tasks: a burst of a thousand tasks can take most of a
    // millisecond, and a commit waits for its log's write and then its sync.
    for (int budget = 1000; budget > 0 && !scheduler_.empty() && scheduler_.next_time() <= scheduler_.now();
         --budget) {
      scheduler_.run_next();
      deliver_completed_blocking();
    }
    end_writing_pass();
    impl_->readiness.poll();
    // asio's own work (accepts, connects, signals, the pool's wake-ups) can wait a little: its
    // poll is a system call, and a busy loop makes many passes.
    double now = clock_seconds();
    if (now - io_polled_at_ >= io_poll_interval_seconds) {
      io_polled_at_ = now;
      impl_->io.poll();
      if (impl_->io.stopped()) impl_->io.restart();
    }
    deliver_completed_blocking();
    if (stopped_ || (until.is_valid() && until.is_ready())) break;
    now = clock_seconds();
    const bool idle = impl_->held_writes.empty() && (scheduler_.empty() || scheduler_.next_time() > now);
    if (!deferred_syncs_.empty()) {
      start_deferred_syncs(idle);
      continue;  // a sync run here has its answer due now
    }
    if (idle) {
      const double wait = scheduler_.empty() ? 0.1 : std::min(0.1, scheduler_.next_time() - now);
      impl_->readiness.arm();
      impl_->io.run_one_for(std::chrono::microseconds(static_cast<int64_t>(wait * 1e6) + 1));
      if (impl_->io.stopped()) impl_->io.restart();
      io_polled_at_ = clock_seconds();
    }
  }
  hand_deferred_syncs_to_lane();  // a later run(), if any, finds their answers
}

void RealWorld::end_writing_pass() {
  impl_->ending_writes.swap(impl_->held_writes);
  for (const auto& connection : impl_->ending_writes) connection->end_pass();
  impl_->ending_writes.clear();
}

Future<std::shared_ptr<IConnection>> RealWorld::connect(NetworkAddress address) {
  Promise<std::shared_ptr<IConnection>> promise;
  Future<std::shared_ptr<IConnection>> result = promise.get_future();
  auto socket = std::make_shared<asio::ip::tcp::socket>(impl_->io);
  auto* readiness = &impl_->readiness;
  auto* held_writes = &impl_->held_writes;
  socket->async_connect(to_endpoint(address), [socket, promise, address, readiness, held_writes](const asio::error_code& error) {
    if (error) {
      promise.send_error(Error(errc::connection_failed));
      return;
    }
    adopt_connection(promise, std::move(*socket), address, *readiness, *held_writes);
  });
  return result;
}

std::shared_ptr<IListener> RealWorld::listen(NetworkAddress address) {
  auto listener = std::make_shared<RealListener>(impl_->io, impl_->readiness, impl_->held_writes, address);
  if (!local_address_.is_valid()) local_address_ = listener->address();
  return listener;
}

Future<Void> RealWorld::write_and_sync_for_commit(std::function<void()> write, std::shared_ptr<FileDescriptor> file,
                                                  bool may_run_on_loop) {
  const uint64_t id = next_blocking_id_++;
  Future<Void> result = blocking_pending_[id].get_future();
  SyncLane::Job job{id, std::move(write), std::move(file)};
  if (may_run_on_loop) {
    if (syncs_to_lane_ == 0) {
      deferred_syncs_.push_back(std::move(job));
      return result;
    }
    --syncs_to_lane_;
  }
  std::vector<SyncLane::Job> jobs;
  jobs.push_back(std::move(job));
  impl_->lane->add(std::move(jobs));
  return result;
}

void RealWorld::start_deferred_syncs(bool idle) {
  std::vector<SyncLane::Job> deferred;
  deferred.swap(deferred_syncs_);
  // The loop runs them itself only while the lane holds nothing: a file's syncs then never
  // overlap (two at once cost the disk more than one, and Linux reports a failed writeback to
  // only one of them).
  if (!idle || impl_->lane->busy()) {
    impl_->lane->add(std::move(deferred));
    return;
  }
  // The loop would sleep until the lane's answer woke it: it waits on the disk itself instead,
  // and spares the lane's wake-up and its own.
  const double started = clock_seconds();
  uint64_t syncs = 0;
  for (auto& [id, failure] : SyncLane::run_round(deferred, &syncs)) answer_blocking(id, std::move(failure));
  // Messages that came meanwhile waited for the disk too: under such load the lane's overlap of
  // syncs with the loop's work serves better. A slow sync stopped everything else the process
  // does for its length: the disk is slow now, and the loop should not wait on it again soon.
  const size_t queued = scheduler_.tasks_queued();
  impl_->readiness.poll();
  if (scheduler_.tasks_queued() > queued || clock_seconds() - started > loop_sync_seconds_max) {
    syncs_to_lane_ = syncs_to_lane_after_arrivals;
  }
}

void RealWorld::hand_deferred_syncs_to_lane() {
  start_deferred_syncs(false);
}

Future<Void> RealWorld::run_blocking(std::function<void()> work) {
  const uint64_t id = next_blocking_id_++;
  Future<Void> result = blocking_pending_[id].get_future();
  post_to_pool(impl_.get(), id, std::move(work));
  return result;
}

// Answers the blocking work the pool finished. The answers go at high priority, ahead of the
// other tasks due at the same time: their waiters were waiting on the disk, not on this thread.
void RealWorld::deliver_completed_blocking() {
  if (!impl_->any_completed.load(std::memory_order_acquire)) return;  // the usual case: no lock
  SyncLane::Answers completed;
  {
    const std::lock_guard<std::mutex> lock(impl_->completed_mutex);
    completed.swap(impl_->completed);
    impl_->any_completed.store(false, std::memory_order_relaxed);
  }
  for (auto& [id, failure] : completed) answer_blocking(id, std::move(failure));
}

void RealWorld::answer_blocking(uint64_t id, std::exception_ptr failure) {
  auto it = blocking_pending_.find(id);
  Promise<Void> promise = std::move(it->second);
  blocking_pending_.erase(it);
  scheduler_.schedule(scheduler_.now(), priority::high, 0, [promise, failure = std::move(failure)]() mutable {
    if (!failure) {
      promise.send(Void{});
      return;
    }
    try {
      std::rethrow_exception(failure);
    } catch (const Error& error) {
      promise.send_error(error);
    } catch (const std::exception& exception) {
      TraceEvent(Severity::error, "BlockingWorkFailed").detail("What", exception.what());
      promise.send_error(Error(errc::internal_error));
    }
  });
}

Future<std::shared_ptr<IFile>> RealWorld::open_file(std::string path, int flags) {
  int posix_flags = (flags & open_flags::read_write) ? O_RDWR : O_RDONLY;
  if (flags & open_flags::create) posix_flags |= O_CREAT;
  if (flags & open_flags::exclusive) posix_flags |= O_EXCL;
  // The descriptor is owned from the moment it exists, so a caller that gives up leaks nothing.
  auto opened = std::make_shared<std::shared_ptr<FileDescriptor>>();
  auto work = [opened, path, posix_flags] {
    const int fd = ::open(path.c_str(), posix_flags | O_CLOEXEC, 0644);
    if (fd < 0) throw errno_error(errno);
    *opened = std::make_shared<FileDescriptor>(fd);
  };
  co_await run_blocking(std::move(work));
  co_return std::shared_ptr<IFile>(std::make_shared<RealFile>(*this, std::move(*opened), path));
}

Future<Void> RealWorld::delete_file(std::string path) {
  return run_blocking([path] {
    if (::unlink(path.c_str()) != 0) throw errno_error(errno);
  });
}

Future<Void> RealWorld::rename_file(std::string from, std::string to) {
  return run_blocking([from, to] {
    if (::rename(from.c_str(), to.c_str()) != 0) throw errno_error(errno);
    // Make the rename durable: sync the directory holding the new name.
    const std::string directory = std::filesystem::path(to).parent_path().string();
    const int fd = ::open(directory.empty() ? "." : directory.c_str(), O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
      ::fsync(fd);
      ::close(fd);
    }
  });
}

Future<bool> RealWorld::file_exists(std::string path) {
  auto exists = std::make_shared<bool>(false);
  auto work = [path, exists] {
    std::error_code error;
    *exists = std::filesystem::exists(path, error);
    if (error) throw errno_error(error.value());
  };
  co_await run_blocking(std::move(work));
  co_return *exists;
}

Future<std::vector<std::string>> RealWorld::list_directory(std::string path) {
  auto names = std::make_shared<std::vector<std::string>>();
  auto work = [path, names] {
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(path, error)) {
      names->push_back(entry.path().filename().string());
    }
    if (error) throw errno_error(error.value());
    std::sort(names->begin(), names->end());
  };
  co_await run_blocking(std::move(work));
  co_return std::move(*names);
}

Future<Void> RealWorld::remove_directory(std::string path) {
  return run_blocking([path] {
    if (::rmdir(path.c_str()) != 0) throw Error(errc::io_error);
  });
}

Future<Void> RealWorld::create_directories(std::string path) {
  return run_blocking([path] {
    std::error_code error;
    std::filesystem::create_directories(path, error);
    if (error) throw Error(errc::io_error);
  });
}

}  // namespace keel
