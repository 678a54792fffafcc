// The simulator: many machines and processes in one OS thread, on virtual time.
//
// A Simulator owns the scheduler, the one seeded random source, the network and the disks. It
// installs itself as the thread's world: `world()` is the SimProcess the current task runs in.
// Given the same seed (and binary), a run makes exactly the same decisions; `fingerprint()`
// (the trace hash mixed with the next random value) detects any divergence.
//
// A simulated process is its boot function: the Future it returns is the process's life, and
// owns everything the process runs. Killing the process drops that Future (cancelling every
// coroutine of the process), breaks its connections (bytes in flight are lost) and destroys its
// process-local singletons. A reboot then runs the boot function again, with the same address
// and the files as the crash left them. Only one Simulator may exist per thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "runtime/scheduler.h"
#include "sim/sim_disk.h"
#include "sim/sim_network.h"
#include "world/world.h"

namespace keel::sim {

class Simulator;

struct SimMachine {
  uint32_t id = 0;
  std::string name;
  uint32_t ip = 0;
  double clock_offset_seconds = 0;  // skew of this machine's wall clock
  SimDisk disk;
};

using BootFunction = std::function<Future<Void>()>;

enum class KillKind {
  process,     // the process dies; the machine (and its page cache) lives on
  power_loss,  // the machine loses power (all its processes die): unsynced writes are lost, torn or kept
};

class SimProcess final : public IWorld {
 public:
  SimProcess(Simulator& simulator, SimMachine& machine, NetworkAddress address, std::string name,
             BootFunction boot, bool protected_from_faults);
  ~SimProcess() override;

  const std::string& name() const { return name_; }
  SimMachine& machine() const { return machine_; }
  bool alive() const { return alive_; }
  // Never killed, partitioned or clogged by fault workloads (the tester).
  bool protected_from_faults() const { return protected_; }
  uint32_t scheduler_id() const { return scheduler_id_; }
  uint64_t boots() const { return boots_; }
  double booted_at() const { return booted_at_; }  // simulated time of the last boot

  double wall_time() override;
  Future<std::shared_ptr<IConnection>> connect(NetworkAddress address) override;
  std::shared_ptr<IListener> listen(NetworkAddress address) override;
  NetworkAddress local_address() const override { return address_; }
  Future<std::shared_ptr<IFile>> open_file(std::string path, int flags) override;
  Future<Void> delete_file(std::string path) override;
  Future<Void> rename_file(std::string from, std::string to) override;
  Future<bool> file_exists(std::string path) override;
  Future<std::vector<std::string>> list_directory(std::string path) override;
  Future<Void> create_directories(std::string path) override;
  Future<Void> remove_directory(std::string path) override;
  Future<Void> run_blocking(std::function<void()> work) override;

 private:
  friend class Simulator;
  Simulator& simulator_;
  SimMachine& machine_;
  NetworkAddress address_;
  std::string name_;
  BootFunction boot_;
  bool protected_;
  bool alive_ = false;
  uint32_t scheduler_id_ = 0;
  uint64_t boots_ = 0;
  double booted_at_ = 0;
  Future<Void> life_;
};

class Simulator {
 public:
  Simulator(uint64_t seed, bool buggify_enabled);
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  DeterministicRandom& random() { return random_; }
  Scheduler& scheduler() { return scheduler_; }
  SimNetwork& network() { return network_; }
  bool buggify_enabled() const { return buggify_enabled_; }

  SimMachine& add_machine(std::string name);
  // Adds a process on `machine` (port 1, 2, ... per machine) and boots it now.
  SimProcess& add_process(SimMachine& machine, std::string name, BootFunction boot,
                          bool protected_from_faults = false);

  void kill(SimProcess& process, KillKind kind);
  // Kills the process, then boots it again after `down_seconds`.
  void reboot(SimProcess& process, KillKind kind, double down_seconds);
  // Every process of the machine loses power together, then boots again.
  void power_cycle(SimMachine& machine, double down_seconds);
  // Clogs both directions between two machines for `seconds`.
  void clog_pair(SimMachine& a, SimMachine& b, double seconds);

  const std::vector<std::unique_ptr<SimMachine>>& machines() const { return machines_; }
  const std::vector<std::unique_ptr<SimProcess>>& processes() const { return processes_; }

  // Runs tasks until `done` is ready. False if virtual time would pass `time_limit` first, or no
  // task is left that could make it ready (the simulation is stuck).
  bool run_until(const Future<Void>& done, double time_limit);

  uint64_t fingerprint();
  uint64_t kills() const { return kills_; }

  // Used by SimProcess.
  SimProcess* process_by_scheduler_id(uint32_t id) const;

 private:
  void boot(SimProcess& process);
  Future<Void> watch_life(SimProcess* process, Future<Void> life);

  Scheduler scheduler_;
  ScopedScheduler install_scheduler_;
  DeterministicRandom random_;
  bool buggify_enabled_;
  Buggify buggify_;
  SimNetwork network_;
  std::vector<std::unique_ptr<SimMachine>> machines_;
  std::vector<std::unique_ptr<SimProcess>> processes_;
  std::map<uint32_t, SimProcess*> by_scheduler_id_;
  std::map<uint32_t, int> ports_used_;
  uint32_t next_scheduler_id_ = 1;
  uint64_t kills_ = 0;
  bool shutting_down_ = false;
};

}  // namespace keel::sim
