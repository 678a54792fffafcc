#include "world/sync_lane.h"

#include <unistd.h>

#include <cerrno>
#include <map>

#include "runtime/error.h"

namespace keel {

FileDescriptor::~FileDescriptor() { ::close(fd); }

Error errno_error(int error_number) {
  if (error_number == ENOENT) return Error(errc::file_not_found);
  if (error_number == EEXIST) return Error(errc::file_exists);
  if (error_number == ENOSPC || error_number == EDQUOT) return Error(errc::disk_full);
  return Error(errc::io_error);
}

void write_fully(int fd, int64_t offset, std::string_view data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::pwrite(fd, data.data() + done, data.size() - done,
                               static_cast<off_t>(offset + static_cast<int64_t>(done)));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw errno_error(errno);
    done += static_cast<size_t>(n);
  }
}

void sync_data(int fd) {
  if (::fdatasync(fd) != 0) throw errno_error(errno);
}

SyncLane::SyncLane(Finished finished) : finished_(std::move(finished)), thread_([this] { run(); }) {}

SyncLane::~SyncLane() {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void SyncLane::add(std::vector<Job> jobs) {
  if (jobs.empty()) return;
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    for (Job& job : jobs) queued_.push_back(std::move(job));
    busy_.store(true, std::memory_order_release);
  }
  wake_.notify_one();
}

uint64_t SyncLane::syncs() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return syncs_;
}

void SyncLane::run() {
  while (true) {
    std::vector<Job> jobs;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queued_.empty(); });
      if (queued_.empty()) return;  // stopping, and nothing left to answer
      jobs.swap(queued_);
    }
    uint64_t synced = 0;
    Answers answers = run_round(jobs, &synced);
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      syncs_ += synced;
    }
    finished_(std::move(answers));
    const std::lock_guard<std::mutex> lock(mutex_);
    if (queued_.empty()) busy_.store(false, std::memory_order_release);
  }
}

SyncLane::Answers SyncLane::run_round(std::vector<Job>& jobs, uint64_t* syncs) {
  Answers answers;
  answers.reserve(jobs.size());
  for (Job& job : jobs) {
    std::exception_ptr failure;
    try {
      job.write();
    } catch (...) {
      failure = std::current_exception();
    }
    answers.emplace_back(job.id, std::move(failure));
  }
  // Each file once, after all of the round's writes.
  std::map<FileDescriptor*, std::exception_ptr> synced;
  for (const Job& job : jobs) {
    if (!job.file || synced.count(job.file.get()) != 0) continue;
    std::exception_ptr failure;
    try {
      sync_data(job.file->fd);
    } catch (...) {
      failure = std::current_exception();
    }
    synced.emplace(job.file.get(), std::move(failure));
  }
  *syncs += synced.size();
  for (size_t i = 0; i < jobs.size(); ++i) {
    if (!answers[i].second && jobs[i].file) answers[i].second = synced[jobs[i].file.get()];
  }
  return answers;
}

}  // namespace keel
