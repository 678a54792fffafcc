#include "world/sync_lane.h"

#include <fcntl.h>
#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace keel {
namespace {

// The answers a lane gave, by job id, for a test to wait on.
class Answers {
 public:
  SyncLane::Finished callback() {
    return [this](SyncLane::Answers answers) {
      const std::lock_guard<std::mutex> lock(mutex_);
      for (auto& [id, failure] : answers) answered_[id] = failure;
      changed_.notify_all();
    };
  }
  // Waits (at most 10 s) for `count` answers; each one's error code, 0 for success.
  std::map<uint64_t, int> wait_for(size_t count) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait_for(lock, std::chrono::seconds(10), [&] { return answered_.size() >= count; });
    std::map<uint64_t, int> codes;
    for (const auto& [id, failure] : answered_) codes[id] = code_of(failure);
    return codes;
  }

 private:
  static int code_of(const std::exception_ptr& failure) {
    if (!failure) return 0;
    try {
      std::rethrow_exception(failure);
    } catch (const Error& error) {
      return error.code();
    } catch (...) {
      return -1;
    }
  }
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<uint64_t, std::exception_ptr> answered_;
};

class SyncLaneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = std::filesystem::temp_directory_path() /
                 ("keel-sync-lane-" + std::to_string(::getpid()) + "-" +
                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(directory_);
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }

  std::shared_ptr<FileDescriptor> open(const std::string& name) {
    const int fd = ::open((directory_ / name).c_str(), O_RDWR | O_CREAT, 0644);
    EXPECT_GE(fd, 0);
    return std::make_shared<FileDescriptor>(fd);
  }
  std::string contents(const std::string& name) {
    std::ifstream in(directory_ / name, std::ios::binary);
    std::stringstream read;
    read << in.rdbuf();
    return read.str();
  }
  static SyncLane::Job writing(uint64_t id, const std::shared_ptr<FileDescriptor>& file, int64_t offset,
                               std::string data) {
    return SyncLane::Job{id, [file, offset, data] { write_fully(file->fd, offset, data); }, file};
  }

  std::filesystem::path directory_;
};

// Jobs queued together are one round: every write, then one sync per file.
TEST_F(SyncLaneTest, JobsQueuedTogetherShareOneSyncPerFile) {
  Answers answers;
  SyncLane lane(answers.callback());
  auto a = open("a");
  auto b = open("b");
  std::vector<SyncLane::Job> jobs;
  jobs.push_back(writing(1, a, 0, "one"));
  jobs.push_back(writing(2, b, 0, "uno"));
  jobs.push_back(writing(3, a, 3, "two"));
  jobs.push_back(writing(4, a, 6, "three"));
  jobs.push_back(writing(5, b, 3, "dos"));
  lane.add(std::move(jobs));
  const std::map<uint64_t, int> expected{{1, 0}, {2, 0}, {3, 0}, {4, 0}, {5, 0}};
  EXPECT_EQ(answers.wait_for(5), expected);
  EXPECT_EQ(lane.syncs(), 2u);
  EXPECT_EQ(contents("a"), "onetwothree");
  EXPECT_EQ(contents("b"), "unodos");
}

// A failed write fails its own job; a failed sync fails every job of its file in the round.
TEST_F(SyncLaneTest, FailuresReachTheJobsTheyConcern) {
  Answers answers;
  SyncLane lane(answers.callback());
  auto good = open("good");
  auto bad = std::make_shared<FileDescriptor>(-1);  // fdatasync fails with EBADF
  std::vector<SyncLane::Job> jobs;
  jobs.push_back(writing(1, good, 0, "kept"));
  jobs.push_back(SyncLane::Job{2, [] { throw Error(errc::disk_full); }, good});
  jobs.push_back(SyncLane::Job{3, [] {}, bad});
  jobs.push_back(SyncLane::Job{4, [] {}, bad});
  lane.add(std::move(jobs));
  const std::map<uint64_t, int> expected{
      {1, 0}, {2, errc::disk_full}, {3, errc::io_error}, {4, errc::io_error}};
  EXPECT_EQ(answers.wait_for(4), expected);
  EXPECT_EQ(contents("good"), "kept");
}

// Destroying the lane runs and answers what it still holds.
TEST_F(SyncLaneTest, DestructionAnswersEveryQueuedJob) {
  Answers answers;
  auto file = open("f");
  {
    SyncLane lane(answers.callback());
    for (uint64_t id = 1; id <= 20; ++id) {
      std::vector<SyncLane::Job> one;
      one.push_back(writing(id, file, static_cast<int64_t>(id - 1), "x"));
      lane.add(std::move(one));
    }
  }
  EXPECT_EQ(answers.wait_for(20).size(), 20u);
  EXPECT_EQ(contents("f"), std::string(20, 'x'));
}

// A round run on the caller's thread writes and syncs the same way.
TEST_F(SyncLaneTest, ARoundRunsOnTheCallersThread) {
  auto file = open("f");
  std::vector<SyncLane::Job> jobs;
  jobs.push_back(writing(1, file, 0, "he"));
  jobs.push_back(writing(2, file, 2, "re"));
  jobs.push_back(SyncLane::Job{3, [] {}, std::make_shared<FileDescriptor>(-1)});
  uint64_t syncs = 0;
  const SyncLane::Answers answers = SyncLane::run_round(jobs, &syncs);
  ASSERT_EQ(answers.size(), 3u);
  EXPECT_FALSE(answers[0].second);
  EXPECT_FALSE(answers[1].second);
  EXPECT_TRUE(answers[2].second);
  EXPECT_EQ(syncs, 2u);
  EXPECT_EQ(contents("f"), "here");
}

// The lane is busy from the moment it is given jobs until it answered all of them.
TEST_F(SyncLaneTest, BusyWhileItHoldsJobs) {
  Answers answers;
  SyncLane lane(answers.callback());
  EXPECT_FALSE(lane.busy());
  auto file = open("f");
  std::vector<SyncLane::Job> jobs;
  jobs.push_back(writing(1, file, 0, "x"));
  lane.add(std::move(jobs));
  EXPECT_TRUE(lane.busy());
  EXPECT_EQ(answers.wait_for(1).size(), 1u);
  for (int i = 0; i < 1000 && lane.busy(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_FALSE(lane.busy());
}

}  // namespace
}  // namespace keel
