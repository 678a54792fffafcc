#include "server/coordinator/generation_register.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <optional>

#include "runtime/random.h"

namespace keel {
namespace {

Generation gen(uint64_t counter, uint64_t proposer, uint64_t sequence = 0) { return Generation{counter, proposer, sequence}; }

TEST(GenerationRegisterTest, ReadPromisesOnlyHigherGenerations) {
  GenerationRegister reg;
  RegisterReadReply first = reg.read(gen(2, 7));
  EXPECT_EQ(first.read_generation, gen(2, 7));
  EXPECT_EQ(first.write_generation, Generation{});
  EXPECT_EQ(first.value, "");
  RegisterReadReply lower = reg.read(gen(1, 9));
  EXPECT_EQ(lower.read_generation, gen(2, 7));  // not promised: the reader sees why
  RegisterReadReply tie_break = reg.read(gen(2, 8));
  EXPECT_EQ(tie_break.read_generation, gen(2, 8));
}

TEST(GenerationRegisterTest, WriteNeedsTheHighestPromise) {
  GenerationRegister reg;
  reg.read(gen(3, 1));
  RegisterWriteReply stale = reg.write(gen(2, 1, 1), "old");
  EXPECT_FALSE(stale.accepted);
  EXPECT_EQ(stale.read_generation, gen(3, 1));
  EXPECT_TRUE(reg.write(gen(3, 1, 1), "a").accepted);
  EXPECT_EQ(reg.state().value, "a");
  EXPECT_EQ(reg.state().write_generation, gen(3, 1, 1));
  EXPECT_EQ(reg.state().read_generation, gen(3, 1, 1));
  // The same proposer's next write after one read.
  EXPECT_TRUE(reg.write(gen(3, 1, 2), "ab").accepted);
  // A newer reader fences the older writer out.
  RegisterReadReply newer = reg.read(gen(4, 2));
  EXPECT_EQ(newer.value, "ab");
  EXPECT_EQ(newer.write_generation, gen(3, 1, 2));
  EXPECT_FALSE(reg.write(gen(3, 1, 3), "abc").accepted);
  EXPECT_TRUE(reg.write(gen(4, 2, 1), "abx").accepted);
  EXPECT_EQ(reg.state().value, "abx");
}

TEST(GenerationRegisterTest, RetransmittedWriteIsAcceptedButAClashIsNot) {
  GenerationRegister reg;
  reg.read(gen(1, 1));
  EXPECT_TRUE(reg.write(gen(1, 1, 1), "v").accepted);
  EXPECT_TRUE(reg.write(gen(1, 1, 1), "v").accepted);
  EXPECT_FALSE(reg.write(gen(1, 1, 1), "w").accepted);
  EXPECT_EQ(reg.state().value, "v");
}

TEST(GenerationRegisterTest, ResumesFromAPersistedState) {
  GenerationRegister reg;
  reg.read(gen(5, 3));
  reg.write(gen(5, 3, 1), "x");
  GenerationRegister resumed(reg.state());
  EXPECT_EQ(resumed.state(), reg.state());
  EXPECT_FALSE(resumed.write(gen(4, 9, 1), "y").accepted);
}

// Many proposers run read-then-write (appending their operation id to the list they read)
// against a few registers, with every message delivered in a random order or lost. The checks
// are those of the coordinated state (coordinated_state.h), against a model of the history:
// - successful writes, in generation order, each strictly extend the previous one;
// - a write that succeeded before a read started is a prefix of what that read adopted;
// - a final read sees every successful write;
// - no two successful writes share a predecessor.
class PaxosModel {
 public:
  PaxosModel(uint64_t seed, size_t acceptors, size_t proposers)
      : seed_(seed), random_(seed), acceptors_(acceptors), proposers_(proposers) {
    for (size_t i = 0; i < proposers; ++i) proposers_[i].id = i + 1;
  }

  void run(int steps) {
    for (int step = 0; step < steps; ++step) {
      if (!messages_.empty() && random_.coin(0.7)) {
        deliver_random();
      } else {
        start_random();
      }
    }
    while (!messages_.empty()) deliver_random();
  }

  void check() {
    // Successful writes by generation: each extends the previous.
    for (size_t i = 1; i < successes_.size(); ++i) {
      const Success& before = successes_[i - 1];
      const Success& after = successes_[i];
      ASSERT_LT(before.generation, after.generation);
      ASSERT_LT(before.value.size(), after.value.size()) << "seed " << seed_text();
      ASSERT_EQ(after.value.substr(0, before.value.size()), before.value) << "seed " << seed_text();
    }
    for (const Success& success : successes_) {
      for (const Success& other : successes_) {
        if (&success == &other) continue;
        ASSERT_NE(success.predecessor, other.predecessor) << "seed " << seed_text();
      }
      for (const Read& read : reads_) {
        if (success.completed_at < read.started_at) {
          ASSERT_EQ(read.value.substr(0, success.value.size()), success.value) << "seed " << seed_text();
        }
      }
    }
  }

  // What a proposer reading every register now would adopt.
  std::string final_value() const {
    const GenerationRegisterState* best = nullptr;
    for (const GenerationRegister& acceptor : acceptors_) {
      if (best == nullptr || acceptor.state().write_generation > best->write_generation) best = &acceptor.state();
    }
    return best->value;
  }
  const std::string& last_success() const { return successes_.back().value; }
  size_t successes() const { return successes_.size(); }
  std::string seed_text() const { return std::to_string(seed_); }

 private:
  enum class Phase { idle, reading, writing };
  struct Proposer {
    uint64_t id = 0;
    Phase phase = Phase::idle;
    uint64_t counter_seen = 0;
    Generation generation;
    size_t answers = 0, good = 0;
    std::optional<RegisterReadReply> adopted;
    std::string predecessor, value;
    uint64_t started_at = 0;
    uint64_t ops = 0;
  };
  struct Message {
    size_t proposer, acceptor;
    bool is_write;
    Generation generation;
    std::string value;
  };
  struct Success {
    Generation generation;
    std::string predecessor, value;
    uint64_t completed_at;
  };
  struct Read {
    std::string value;
    uint64_t started_at;
  };

  void start_random() {
    Proposer& proposer = proposers_[static_cast<size_t>(random_.random_int(0, static_cast<int64_t>(proposers_.size())))];
    if (proposer.phase != Phase::idle) return;
    proposer.phase = Phase::reading;
    proposer.generation = Generation{++proposer.counter_seen, proposer.id, 0};
    proposer.answers = proposer.good = 0;
    proposer.adopted.reset();
    proposer.started_at = ++clock_;
    send_all(proposer, false);
  }

  void send_all(const Proposer& proposer, bool is_write) {
    for (size_t a = 0; a < acceptors_.size(); ++a) {
      messages_.push_back(Message{static_cast<size_t>(&proposer - proposers_.data()), a, is_write, proposer.generation, proposer.value});
    }
  }

  void deliver_random() {
    const auto index = static_cast<size_t>(random_.random_int(0, static_cast<int64_t>(messages_.size())));
    Message message = messages_[index];
    messages_.erase(messages_.begin() + static_cast<std::ptrdiff_t>(index));
    Proposer& proposer = proposers_[message.proposer];
    const bool lost = random_.coin(0.1);
    const bool current = proposer.generation == message.generation &&
                         proposer.phase == (message.is_write ? Phase::writing : Phase::reading);
    if (message.is_write) {
      // A lost request may still have been applied (the reply was lost).
      std::optional<RegisterWriteReply> reply;
      if (!lost || random_.coin(0.5)) reply = acceptors_[message.acceptor].write(message.generation, message.value);
      if (current) answer_write(proposer, lost ? std::nullopt : reply);
    } else {
      std::optional<RegisterReadReply> reply;
      if (!lost || random_.coin(0.5)) reply = acceptors_[message.acceptor].read(message.generation);
      if (current) answer_read(proposer, lost ? std::nullopt : reply);
    }
  }

  size_t majority() const { return acceptors_.size() / 2 + 1; }

  void answer_read(Proposer& proposer, const std::optional<RegisterReadReply>& reply) {
    ++proposer.answers;
    if (reply) {
      proposer.counter_seen = std::max(proposer.counter_seen, reply->read_generation.counter);
      if (reply->read_generation == proposer.generation) {
        ++proposer.good;
        if (!proposer.adopted || reply->write_generation > proposer.adopted->write_generation) proposer.adopted = reply;
      }
    }
    if (proposer.good == majority()) {
      reads_.push_back(Read{proposer.adopted->value, proposer.started_at});
      proposer.predecessor = proposer.adopted->value;
      proposer.value = proposer.predecessor + fmt::format("{:02}{:04}", proposer.id, ++proposer.ops);
      proposer.phase = Phase::writing;
      proposer.generation.sequence = 1;
      proposer.answers = proposer.good = 0;
      send_all(proposer, true);
    } else if (proposer.answers == acceptors_.size()) {
      proposer.phase = Phase::idle;
    }
  }

  void answer_write(Proposer& proposer, const std::optional<RegisterWriteReply>& reply) {
    ++proposer.answers;
    if (reply) {
      proposer.counter_seen = std::max(proposer.counter_seen, reply->read_generation.counter);
      if (reply->accepted) ++proposer.good;
    }
    if (proposer.good == majority()) {
      successes_.push_back(Success{proposer.generation, proposer.predecessor, proposer.value, ++clock_});
      proposer.phase = Phase::idle;
    } else if (proposer.answers == acceptors_.size()) {
      proposer.phase = Phase::idle;
    }
  }

 public:
  void sort_successes() {
    std::sort(successes_.begin(), successes_.end(),
              [](const Success& a, const Success& b) { return a.generation < b.generation; });
  }

 private:
  uint64_t seed_;
  DeterministicRandom random_;
  std::vector<GenerationRegister> acceptors_;
  std::vector<Proposer> proposers_;
  std::deque<Message> messages_;
  std::vector<Success> successes_;
  std::vector<Read> reads_;
  uint64_t clock_ = 0;
};

TEST(GenerationRegisterTest, RandomInterleavingsOfManyProposersKeepOneHistory) {
  size_t total_successes = 0;
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    SCOPED_TRACE(fmt::format("seed {}", seed));
    const size_t acceptors = seed % 2 == 0 ? 3 : 5;
    PaxosModel model(seed, acceptors, 2 + seed % 5);
    model.run(400);
    model.sort_successes();
    model.check();
    if (model.successes() > 0) {
      const std::string final_value = model.final_value();
      ASSERT_EQ(final_value.substr(0, model.last_success().size()), model.last_success());
    }
    total_successes += model.successes();
  }
  EXPECT_GT(total_successes, 1000u);  // the test exercises real histories, not just conflicts
}

}  // namespace
}  // namespace keel
