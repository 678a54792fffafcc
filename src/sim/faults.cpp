// Fault workloads: they act on the simulator during the fault phase and never touch the
// protected tester. Every fault they start ends by the end of the fault phase.
#include <algorithm>

#include "runtime/trace.h"
#include "sim/workload.h"

namespace keel::sim {
namespace {

// Faults that share the context and the random source.
class Fault : public Workload {
 public:
  explicit Fault(RunContext& context) : context_(context), random_(context.simulator.random()) {}

 protected:
  double remaining() const { return std::max(0.0, context_.fault_phase_end - now()); }
  std::vector<SimMachine*> faultable_machines() const {
    std::vector<SimMachine*> machines;
    for (SimProcess* process : context_.cluster) {
      SimMachine* machine = &process->machine();
      if (std::find(machines.begin(), machines.end(), machine) == machines.end()) machines.push_back(machine);
    }
    return machines;
  }
  template <class T>
  T* pick(const std::vector<T*>& items) {
    return items[static_cast<size_t>(random_.random_int(0, static_cast<int64_t>(items.size())))];
  }

  RunContext& context_;
  DeterministicRandom& random_;
};

// Kills and reboots processes (or power-cycles their machines) at random times. Options: kills,
// reboot_delay_min/max_seconds, power_loss_probability, bit_rot_probability, dead_max (processes
// down at once), catch_up_seconds (a rebooted process counts as down this long),
// protect_first_process.
class Attrition final : public Fault {
 public:
  Attrition(RunContext& context, const Options& options)
      : Fault(context),
        kills_(options.number("kills", 10)),
        reboot_delay_min_(options.number("reboot_delay_min_seconds", 0.1)),
        reboot_delay_max_(options.number("reboot_delay_max_seconds", 5)),
        power_loss_probability_(options.number("power_loss_probability", 0.3)),
        bit_rot_probability_(options.number("bit_rot_probability", 0)),
        dead_max_(options.number("dead_max", 1e9)),
        catch_up_seconds_(options.number("catch_up_seconds", 0)),
        protect_first_process_(options.number("protect_first_process", 0) != 0) {}

  Future<Void> start() override {
    const double mean_interval = context_.spec.duration_seconds / std::max(1.0, kills_);
    while (true) {
      co_await delay(random_.random_exponential(mean_interval));
      std::vector<SimProcess*> alive;
      for (SimProcess* process : context_.cluster) {
        if (process->alive() && !protected_machine(*process)) alive.push_back(process);
      }
      // A process rebooted less than catch_up_seconds ago still counts as down: its storage
      // servers are still catching up, so it is no replica to fail over to yet.
      double dead = 0;
      for (SimProcess* process : context_.cluster) {
        dead += process->alive() && now() - process->booted_at() >= catch_up_seconds_ ? 0 : 1;
      }
      if (alive.empty() || dead >= dead_max_) continue;
      SimProcess* victim = pick(alive);
      const double down = std::min(remaining(), reboot_delay_min_ + random_.random01() * (reboot_delay_max_ - reboot_delay_min_));
      if (random_.coin(power_loss_probability_)) {
        context_.simulator.power_cycle(victim->machine(), down);
        if (random_.coin(bit_rot_probability_)) victim->machine().disk.rot_one_bit(random_);
      } else {
        context_.simulator.reboot(*victim, KillKind::process, down);
      }
    }
  }

 private:
  // With protect_first_process, the machine of the cluster's first process (which hosts a
  // static cluster's transaction roles) is never killed nor power-cycled.
  bool protected_machine(const SimProcess& process) const {
    return protect_first_process_ && &process.machine() == &context_.cluster.front()->machine();
  }

  double kills_, reboot_delay_min_, reboot_delay_max_, power_loss_probability_, bit_rot_probability_, dead_max_,
      catch_up_seconds_;
  bool protect_first_process_;
};

// Clogs the links between random pairs of machines for a while.
class RandomClogging final : public Fault {
 public:
  RandomClogging(RunContext& context, const Options& options)
      : Fault(context),
        interval_(options.number("interval_seconds", 2)),
        clog_max_(options.number("clog_max_seconds", 3)) {}

  Future<Void> start() override {
    std::vector<SimMachine*> machines = faultable_machines();
    while (machines.size() >= 2) {
      co_await delay(random_.random_exponential(interval_));
      SimMachine* a = pick(machines);
      SimMachine* b = pick(machines);
      if (a == b) continue;
      const double seconds = std::min(remaining(), random_.random01() * clog_max_);
      context_.simulator.clog_pair(*a, *b, seconds);
    }
    co_return Void{};
  }

 private:
  double interval_, clog_max_;
};

// Cuts a random group of machines off from the rest, in one or both directions.
class Partitions final : public Fault {
 public:
  Partitions(RunContext& context, const Options& options)
      : Fault(context),
        interval_(options.number("interval_seconds", 10)),
        duration_max_(options.number("duration_max_seconds", 8)),
        one_way_probability_(options.number("one_way_probability", 0.3)) {}

  Future<Void> start() override {
    std::vector<SimMachine*> machines = faultable_machines();
    while (machines.size() >= 2) {
      co_await delay(random_.random_exponential(interval_));
      std::vector<SimMachine*> shuffled = machines;
      for (size_t i = shuffled.size() - 1; i > 0; --i) {
        std::swap(shuffled[i], shuffled[static_cast<size_t>(random_.random_int(0, static_cast<int64_t>(i + 1)))]);
      }
      const auto side = static_cast<size_t>(random_.random_int(1, static_cast<int64_t>(shuffled.size() / 2) + 1));
      const double seconds = std::min(remaining(), random_.random01() * duration_max_);
      const bool one_way = random_.coin(one_way_probability_);
      TraceEvent("SimPartition").detail("Isolated", side).detail("Seconds", seconds).detail("OneWay", one_way);
      for (size_t i = 0; i < side; ++i) {
        for (size_t j = side; j < shuffled.size(); ++j) {
          context_.simulator.network().clog(shuffled[i]->ip, shuffled[j]->ip, seconds);
          if (!one_way) context_.simulator.network().clog(shuffled[j]->ip, shuffled[i]->ip, seconds);
        }
      }
      co_await delay(seconds);
    }
    co_return Void{};
  }

 private:
  double interval_, duration_max_, one_way_probability_;
};

// Skews the wall clocks of machines, now and then again.
class ClockSkew final : public Fault {
 public:
  ClockSkew(RunContext& context, const Options& options)
      : Fault(context), skew_max_(options.number("skew_max_seconds", 0.5)), interval_(options.number("interval_seconds", 5)) {}

  Future<Void> start() override {
    std::vector<SimMachine*> machines = faultable_machines();
    for (SimMachine* machine : machines) skew(*machine);
    while (!machines.empty()) {
      co_await delay(random_.random_exponential(interval_));
      skew(*pick(machines));
    }
    co_return Void{};
  }

 private:
  void skew(SimMachine& machine) { machine.clock_offset_seconds = (random_.random01() * 2 - 1) * skew_max_; }
  double skew_max_, interval_;
};

// Breaks random connections: both ends fail and the bytes in flight are lost.
class ConnectionFailures final : public Fault {
 public:
  ConnectionFailures(RunContext& context, const Options& options)
      : Fault(context), interval_(options.number("interval_seconds", 1)) {}

  Future<Void> start() override {
    while (true) {
      co_await delay(random_.random_exponential(interval_));
      context_.simulator.network().break_random_connection();
    }
  }

 private:
  double interval_;
};

}  // namespace

std::unique_ptr<Workload> make_attrition(RunContext& context, const Options& options) {
  return std::make_unique<Attrition>(context, options);
}
std::unique_ptr<Workload> make_random_clogging(RunContext& context, const Options& options) {
  return std::make_unique<RandomClogging>(context, options);
}
std::unique_ptr<Workload> make_partitions(RunContext& context, const Options& options) {
  return std::make_unique<Partitions>(context, options);
}
std::unique_ptr<Workload> make_clock_skew(RunContext& context, const Options& options) {
  return std::make_unique<ClockSkew>(context, options);
}
std::unique_ptr<Workload> make_connection_failures(RunContext& context, const Options& options) {
  return std::make_unique<ConnectionFailures>(context, options);
}

}  // namespace keel::sim
