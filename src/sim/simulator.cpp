#include "sim/simulator.h"

#include "runtime/knobs.h"
#include "runtime/trace.h"
#include "server/worker/worker.h"

namespace keel::sim {
namespace {

// Simulated wall clocks start at a fixed date so runs replay exactly.
constexpr double wall_clock_epoch_seconds = 1.8e9;
// Simulated machines live in 127.1.0.0/16: addresses that are never used on a real network.
constexpr uint32_t machine_ip_base = 0x7f010000;

}  // namespace

SimProcess::SimProcess(Simulator& simulator, SimMachine& machine, NetworkAddress address, std::string name,
                       BootFunction boot, bool protected_from_faults)
    : simulator_(simulator),
      machine_(machine),
      address_(address),
      name_(std::move(name)),
      boot_(std::move(boot)),
      protected_(protected_from_faults) {}

SimProcess::~SimProcess() { clear_locals(); }

double SimProcess::wall_time() {
  return wall_clock_epoch_seconds + now() + machine_.clock_offset_seconds;
}

Future<std::shared_ptr<IConnection>> SimProcess::connect(NetworkAddress address) {
  return simulator_.network().connect(address_, address, scheduler_id_);
}

std::shared_ptr<IListener> SimProcess::listen(NetworkAddress address) {
  if (address.ip != address_.ip && address.ip != 0) throw Error(errc::bind_failed);
  NetworkAddress bound = address_;
  if (address.port != 0) bound.port = address.port;
  return simulator_.network().listen(bound, scheduler_id_);
}

Future<std::shared_ptr<IFile>> SimProcess::open_file(std::string path, int flags) {
  co_await delay(disk_latency_seconds(false));
  std::shared_ptr<SimFileData> data = machine_.disk.find(path);
  if (data && (flags & open_flags::create) && (flags & open_flags::exclusive)) throw Error(errc::file_exists);
  if (!data) {
    if (!(flags & open_flags::create)) throw Error(errc::file_not_found);
    data = machine_.disk.create(path);
  }
  const bool writable = (flags & open_flags::read_write) != 0;
  co_return std::shared_ptr<IFile>(std::make_shared<SimFile>(data, path, writable));
}

Future<Void> SimProcess::delete_file(std::string path) {
  co_await delay(disk_latency_seconds(false));
  if (!machine_.disk.remove(path)) throw Error(errc::file_not_found);
  co_return Void{};
}

Future<Void> SimProcess::rename_file(std::string from, std::string to) {
  co_await delay(disk_latency_seconds(true));
  if (!machine_.disk.rename(from, to)) throw Error(errc::file_not_found);
  co_return Void{};
}

Future<bool> SimProcess::file_exists(std::string path) {
  co_await delay(disk_latency_seconds(false));
  co_return machine_.disk.find(path) != nullptr || machine_.disk.directory_exists(path);
}

Future<std::vector<std::string>> SimProcess::list_directory(std::string path) {
  co_await delay(disk_latency_seconds(false));
  co_return machine_.disk.list(path);
}

Future<Void> SimProcess::create_directories(std::string path) {
  co_await delay(disk_latency_seconds(false));
  machine_.disk.create_directories(path);
  co_return Void{};
}

Future<Void> SimProcess::remove_directory(std::string path) {
  co_await delay(disk_latency_seconds(false));
  if (!machine_.disk.remove_directory(path)) throw Error(errc::io_error);
  co_return Void{};
}

Future<Void> SimProcess::run_blocking(std::function<void()> work) {
  co_await delay(disk_latency_seconds(false));
  work();
  co_return Void{};
}

Simulator::Simulator(uint64_t seed, bool buggify_enabled)
    : install_scheduler_(scheduler_),
      random_(seed),
      buggify_enabled_(buggify_enabled),
      buggify_(random_, 0.25, 0.25),
      network_(random_) {
  set_deterministic_random(&random_);
  set_buggify(buggify_enabled ? &buggify_ : nullptr);
  // Declare every knob before resetting and randomizing them all, so a run never depends on
  // which knobs an earlier run in this process happened to touch.
  declare_server_knobs();
  knob_registry().reset_defaults();
  if (buggify_enabled) knob_registry().randomize(random_);
  trace_log().reset();
  trace_log().set_clock([this] { return scheduler_.now(); });
  trace_log().set_address_provider([this]() -> std::string {
    SimProcess* process = process_by_scheduler_id(scheduler_.current_process());
    return process ? process->local_address().to_string() : std::string("simulator");
  });
  set_world_resolver([this]() -> IWorld& {
    SimProcess* process = process_by_scheduler_id(scheduler_.current_process());
    KEEL_ASSERT(process != nullptr);  // world() used outside any live simulated process
    return *process;
  });
  if (buggify_enabled) {
    // A quarter of delays run late by up to their own length (at most 0.1 s more).
    scheduler_.set_delay_adjust([this](double seconds) {
      if (seconds <= 0 || !random_.coin(0.25)) return seconds;
      return seconds + random_.random01() * std::min(seconds, 0.1);
    });
  }
}

Simulator::~Simulator() {
  // Take processes down in order so nothing outlives what it refers to.
  shutting_down_ = true;
  for (auto& process : processes_) {
    if (process->alive_) kill(*process, KillKind::process);
  }
  while (!scheduler_.empty()) scheduler_.run_next();  // let connection closes settle
  processes_.clear();
  set_world_resolver(nullptr);
  trace_log().set_clock(nullptr);
  trace_log().set_address_provider(nullptr);
  set_buggify(nullptr);
  set_deterministic_random(nullptr);
  knob_registry().reset_defaults();
}

SimMachine& Simulator::add_machine(std::string name) {
  auto machine = std::make_unique<SimMachine>();
  machine->id = static_cast<uint32_t>(machines_.size());
  machine->name = std::move(name);
  machine->ip = machine_ip_base + machine->id + 1;
  machines_.push_back(std::move(machine));
  return *machines_.back();
}

SimProcess& Simulator::add_process(SimMachine& machine, std::string name, BootFunction boot,
                                   bool protected_from_faults) {
  const auto port = static_cast<uint16_t>(++ports_used_[machine.id]);
  processes_.push_back(std::make_unique<SimProcess>(*this, machine, NetworkAddress{machine.ip, port},
                                                    std::move(name), std::move(boot), protected_from_faults));
  SimProcess& process = *processes_.back();
  this->boot(process);
  return process;
}

SimProcess* Simulator::process_by_scheduler_id(uint32_t id) const {
  auto it = by_scheduler_id_.find(id);
  return it == by_scheduler_id_.end() ? nullptr : it->second;
}

void Simulator::boot(SimProcess& process) {
  KEEL_ASSERT(!process.alive_);
  if (shutting_down_) return;
  process.alive_ = true;
  process.scheduler_id_ = next_scheduler_id_++;
  ++process.boots_;
  process.booted_at_ = scheduler_.now();
  by_scheduler_id_[process.scheduler_id_] = &process;
  const uint32_t previous = scheduler_.current_process();
  scheduler_.set_current_process(process.scheduler_id_);
  TraceEvent("SimProcessBooted").detail("Name", process.name_).detail("Boots", process.boots_);
  process.life_ = watch_life(&process, process.boot_());
  scheduler_.set_current_process(previous);
}

Future<Void> Simulator::watch_life(SimProcess* process, Future<Void> life) {
  try {
    co_await life;
    TraceEvent("SimProcessExited").detail("Name", process->name_);
  } catch (const Error& error) {
    TraceEvent(Severity::error, "SimProcessFailed").detail("Name", process->name_).error(error);
  }
  co_return Void{};
}

void Simulator::kill(SimProcess& process, KillKind kind) {
  if (!process.alive_) return;
  if (kind == KillKind::power_loss) {
    // Power loss takes the whole machine down: no process may run on a crashed disk.
    for (auto& other : processes_) {
      if (&other->machine_ == &process.machine_ && other.get() != &process) kill(*other, KillKind::process);
    }
  }
  ++kills_;
  const uint32_t previous = scheduler_.current_process();
  scheduler_.set_current_process(process.scheduler_id_);
  TraceEvent("SimProcessKilled")
      .detail("Name", process.name_)
      .detail("Kind", kind == KillKind::power_loss ? "power_loss" : "process");
  process.alive_ = false;
  process.life_ = Future<Void>();  // cancels everything the process was running
  network_.break_connections_of(process.scheduler_id_);
  process.clear_locals();
  scheduler_.set_current_process(previous);
  by_scheduler_id_.erase(process.scheduler_id_);
  if (kind == KillKind::power_loss) process.machine_.disk.crash(random_);
}

void Simulator::reboot(SimProcess& process, KillKind kind, double down_seconds) {
  kill(process, kind);
  scheduler_.schedule(now() + down_seconds, priority::normal, 0, [this, &process] {
    if (!process.alive_) boot(process);
  });
}

void Simulator::power_cycle(SimMachine& machine, double down_seconds) {
  for (auto& process : processes_) {
    if (&process->machine_ == &machine) kill(*process, KillKind::process);
  }
  machine.disk.crash(random_);
  for (auto& process : processes_) {
    if (&process->machine_ == &machine) {
      SimProcess* target = process.get();
      scheduler_.schedule(now() + down_seconds, priority::normal, 0, [this, target] {
        if (!target->alive_) boot(*target);
      });
    }
  }
}

void Simulator::clog_pair(SimMachine& a, SimMachine& b, double seconds) {
  network_.clog(a.ip, b.ip, seconds);
  network_.clog(b.ip, a.ip, seconds);
}

bool Simulator::run_until(const Future<Void>& done, double time_limit) {
  while (!done.is_ready()) {
    if (scheduler_.empty() || scheduler_.next_time() > time_limit) return false;
    scheduler_.run_next();
  }
  return true;
}

uint64_t Simulator::fingerprint() { return trace_log().hash() ^ random_.next_u64(); }

}  // namespace keel::sim
