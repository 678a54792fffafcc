// `keel server`: one KeelDB process. With no flags, the embedded default: every role in this
// process, data in ./keel-data, cluster file ./keel.cluster naming it, on 127.0.0.1:4500.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "cmd/cli_status.h"
#include "cmd/commands.h"
#include "cmd/knob_settings.h"
#include "cmd/static_config.h"
#include "frontend/resp/resp_server.h"
#include "protocol/cluster_controller_interface.h"
#include "protocol/cluster_file.h"
#include "rpc/transport.h"
#include "runtime/combinators.h"
#include "runtime/trace.h"
#include "server/worker/worker.h"
#include "storage/kv_store.h"
#include "world/process_memory.h"
#include "world/real_world.h"

namespace keel::cmd {
namespace {

struct ServerOptions {
  std::string data = "keel-data";
  std::string listen = "127.0.0.1:4500";
  std::string cluster_file = "keel.cluster";
  std::string engine = "rocksdb";
  std::string process_class = "unset";
  bool process_class_given = false;  // --class on the command line (it wins over --config's)
  std::string config;
  int storage_servers = 2;
  int shards = 4;
  bool shards_given = false;
  std::string resp;  // Redis front end: ADDR, "off", or empty: 127.0.0.1:6380 when embedded
  std::string resp_prefix = std::string(keel::resp_prefix_default);
  std::vector<std::string> knobs;  // NAME=VALUE
  std::string memory;  // budget, e.g. "2GiB"; empty: detected
};

// Why the server does not start: an error code (error_codes.h) and what to do about it.
struct StartupError {
  int code;
  std::string message;
};

// Makes the data directory (and its parents); true when this call created the directory itself
// (a mkdir that fails on an existing one, so of two starts racing on a new path only one
// counts as its creator).
bool make_data_directory(const std::string& path) {
  std::filesystem::path directory = std::filesystem::path(path).lexically_normal();
  if (!directory.has_filename()) directory = directory.parent_path();  // "data/" names "data"
  std::error_code failed;
  if (directory.has_parent_path()) std::filesystem::create_directories(directory.parent_path(), failed);
  if (!failed) {
    if (::mkdir(directory.c_str(), 0755) == 0) return true;
    if (errno != EEXIST) {
      failed = std::error_code(errno, std::generic_category());
    } else if (!std::filesystem::is_directory(directory, failed) && !failed) {
      failed = std::make_error_code(std::errc::not_a_directory);
    }
  }
  if (failed) throw StartupError{errc::io_error, fmt::format("--data {}: cannot create the data directory: {}", path, failed.message())};
  return false;
}

// A data directory this start created and holds the lock of: removed again, before the lock is
// released, unless the start succeeds (keep()), so a refused start leaves no data directory
// behind. Made after the lock is taken: a start refused by another server's lock removes nothing.
class NewDataDirectory {
 public:
  NewDataDirectory(std::string path, bool created) : path_(std::move(path)), created_(created) {}
  NewDataDirectory(const NewDataDirectory&) = delete;
  NewDataDirectory& operator=(const NewDataDirectory&) = delete;
  ~NewDataDirectory() {
    if (!created_ || kept_) return;
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  void keep() { kept_ = true; }

 private:
  std::string path_;
  bool created_;
  bool kept_ = false;
};

// Holds an exclusive lock on the data directory for the life of the process.
class DataLock {
 public:
  explicit DataLock(const std::string& directory) {
    const std::string path = directory + "/lock";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw StartupError{errc::io_error, fmt::format("cannot open {}: {}", path, std::strerror(errno))};
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      throw StartupError{errc::data_directory_locked,
                         fmt::format("the data directory {} is in use by another keel server (its lock {} is held); "
                                     "stop that server or pass another --data",
                                     directory, path)};
    }
  }
  ~DataLock() { ::close(fd_); }
  DataLock(const DataLock&) = delete;
  DataLock& operator=(const DataLock&) = delete;

 private:
  int fd_ = -1;
};

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw StartupError{errc::io_error, fmt::format("cannot read {}", path)};
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Writes the cluster file naming `connection` unless one exists. An existing file that names
// another connection is kept (clients may be using it: it may be newer than this process's),
// with a warning.
void ensure_cluster_file(const std::string& path, const ClusterConnectionString& connection) {
  if (std::filesystem::exists(path)) {
    ClusterConnectionString named;
    try {
      named = parse_connection_string(read_text(path));
    } catch (const Error& error) {
      // Started anyway, it would tell clients to connect with a file they cannot use.
      throw StartupError{errc::connection_string_invalid,
                         fmt::format("the existing cluster file {} is not a cluster file ({}): delete it (the server "
                                     "then writes one) or pass another --cluster-file",
                                     path, error.describe())};
    }
    if (named != connection) {
      fmt::print(stderr, "keel server: warning: the existing cluster file {} says {}, this server {}: clients using "
                 "it reach this cluster only if it is newer (delete it to have it written again)\n",
                 path, format_connection_string(named), format_connection_string(connection));
    }
    return;
  }
  // Written aside and renamed, so a client never reads half a file.
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary);
    out << format_connection_string(connection) << "\n";
    out.close();
    if (!out) throw StartupError{errc::io_error, fmt::format("cannot write the cluster file {}", temporary)};
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) throw StartupError{errc::io_error, fmt::format("cannot write the cluster file {}: {}", path, error.message())};
}

// The cluster configuration and this process's class.
struct ProcessConfig {
  ClusterConfig cluster;
  std::string process_class;
};

ProcessConfig process_config(const ServerOptions& options, NetworkAddress self) {
  if (options.config.empty()) {
    if (options.process_class == process_class_storage) {
      throw StartupError{errc::invalid_option_value, "--class storage leaves the embedded single-process cluster no process for the transaction "
                         "roles (use --config for a cluster with storage-only processes)"};
    }
    return ProcessConfig{ClusterConfig::single_process(self, options.storage_servers, options.shards),
                         options.process_class};
  }
  StaticConfig config;
  try {
    config = parse_static_config(read_text(options.config), options.config);
  } catch (const ConfigError& error) {
    throw StartupError{errc::cluster_config_invalid, error.message};
  }
  auto listed = config.process_classes.find(self);
  if (listed == config.process_classes.end()) {
    fmt::print(stderr, "keel server: warning: {} is not the address of a [[process]] in {}: this process hosts only "
               "what the cluster controller recruits into it\n", self.to_string(), options.config);
  }
  std::string process_class = options.process_class;
  if (!options.process_class_given && listed != config.process_classes.end()) process_class = listed->second;
  return ProcessConfig{std::move(config.cluster), std::move(process_class)};
}

// The data directory belongs to the cluster its `cluster` file names (written at its first
// start). The embedded default is its cluster's one coordinator, so it must listen where that
// file says: elsewhere it would find no coordinator, or start a new empty cluster over the old
// data. A static cluster's process follows the saved coordinators (they may have been changed
// since --config was written), with a note when they differ.
void check_cluster_of_data(const ServerOptions& options, NetworkAddress self,
                           const std::vector<NetworkAddress>& configured, const std::vector<NetworkAddress>& saved) {
  if (saved == configured) return;
  if (options.config.empty()) {
    if (std::find(saved.begin(), saved.end(), self) != saved.end()) return;
    throw StartupError{errc::data_directory_mismatch, fmt::format(
        "the data directory {0} belongs to the cluster whose coordinators are {1} (saved in {0}/cluster), but this "
        "server listens on {2}: restart it with --listen {3}, or pass another --data to start a new cluster",
        options.data, describe_addresses(saved), self.to_string(), saved.front().to_string())};
  }
  fmt::print(stderr, "keel server: note: following the coordinators saved in {}/cluster ({}), not those of {} ({})\n",
             options.data, describe_addresses(saved), options.config, describe_addresses(configured));
}

constexpr const char* resp_address_default = "127.0.0.1:6380";

// An explicit --resp must parse and differ from --listen (both would bind the same port).
void check_resp_address(const ServerOptions& options, const NetworkAddress& listen) {
  if (options.resp.empty() || options.resp == "off") return;
  NetworkAddress resp;
  try {
    resp = NetworkAddress::parse(options.resp);
  } catch (const Error& error) {
    throw StartupError{error.code(), fmt::format("--resp {}: {}, such as 127.0.0.1:6380, or off", options.resp, error.message())};
  }
  if (resp == listen && listen.port != 0) {
    throw StartupError{errc::invalid_option_value, fmt::format("--resp {} is also the --listen address: the Redis front end needs a port of its "
                                   "own (or --resp off)",
                                   options.resp)};
  }
}

// Listens for Redis clients as --resp asks. The embedded default's port being taken is not
// fatal (another server may hold it); an address asked for explicitly is.
std::shared_ptr<IListener> listen_resp(const ServerOptions& options, IWorld& world) {
  const bool asked = !options.resp.empty();
  if (options.resp == "off" || (!asked && !options.config.empty())) return nullptr;
  const std::string address = asked ? options.resp : resp_address_default;
  if (!asked && NetworkAddress::parse(address) == world.local_address()) {
    fmt::print(stderr, "keel server: Redis front end not started: {} is the --listen address (pass --resp ADDR)\n",
               address);
    return nullptr;
  }
  try {
    return world.listen(NetworkAddress::parse(address));
  } catch (const Error& error) {
    if (asked) throw StartupError{error.code(), fmt::format("cannot listen for Redis clients on {}: {}", address, error.message())};
    fmt::print(stderr, "keel server: Redis front end not started: {} is in use (pass --resp ADDR or --resp off)\n",
               address);
    return nullptr;
  }
}

// The least free space the data directory's disk must keep: a server starts only above it and
// stops when it falls below (watch_free_space), since an engine whose writes fail for space
// may abort instead of returning the error (RocksDB does, in its own checks, on a full disk).
constexpr int64_t free_bytes_min = 32'000'000;
constexpr double free_space_check_seconds = 0.05;

// The free bytes of the disk holding `data`, or nullopt when unknown.
std::optional<int64_t> free_bytes_of(const std::string& data) {
  struct statvfs disk {};
  if (::statvfs(data.c_str(), &disk) != 0) return std::nullopt;
  return static_cast<int64_t>(disk.f_bavail) * static_cast<int64_t>(disk.f_frsize);
}

// Fails with disk_full once the data directory's disk keeps less than free_bytes_min: the
// server stops, as a crash would (every acknowledged commit is durable), before its engines
// meet a full disk.
Future<Void> watch_free_space(std::string data) {
  while (true) {
    co_await delay(free_space_check_seconds);
    const std::optional<int64_t> free_bytes = free_bytes_of(data);
    if (free_bytes && *free_bytes < free_bytes_min) {
      TraceEvent(Severity::warn_always, "ServerDiskFull").detail("Directory", data).detail("FreeBytes", *free_bytes);
      throw Error(errc::disk_full);
    }
  }
}

// Ends when the first of `a` and `b` ends, with its error if it failed.
Future<Void> first_of(Future<Void> a, Future<Void> b) {
  Future<std::variant<Void, Void>> either = race(std::move(a), std::move(b));
  co_await either;
  co_return Void{};
}

// Refuses a start on a disk about full, naming it, rather than failing in an engine.
void check_free_space(const std::string& data) {
  const std::optional<int64_t> free_bytes_known = free_bytes_of(data);
  if (!free_bytes_known) return;  // unknown: the engines will tell
  const int64_t free_bytes = *free_bytes_known;
  if (free_bytes >= free_bytes_min) return;
  throw StartupError{errc::disk_full, fmt::format("the disk of {} has {} free; keel server needs at least {} there to "
                                                  "start: free space on it or pass another --data",
                                                  data, format_bytes(free_bytes), format_bytes(free_bytes_min))};
}

// Refuses, before anything starts, what the data directory's storage servers cannot serve:
// an --engine other than the one whose files they hold (each storage server would refuse it,
// after the server had said where to connect), and, in the embedded default, fewer
// --storage-servers than it holds (the missing ones' shards would wait for them forever).
void check_storage_of_data(const ServerOptions& options) {
  std::error_code error;
  int64_t held = 0;  // storage servers with files: storage-0 .. storage-(held - 1)
  for (const auto& entry : std::filesystem::directory_iterator(options.data, error)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_directory() || !name.starts_with("storage-")) continue;
    std::vector<std::string> names;
    for (const auto& file : std::filesystem::directory_iterator(entry.path(), error)) {
      names.push_back(file.path().filename().string());
    }
    const std::string found = engine_of_files(names);
    if (!found.empty() && found != options.engine) {
      throw StartupError{errc::engine_mismatch, fmt::format("the data directory {} holds {} data ({}): start with "
                                                            "--engine {}, or pass another --data for a new cluster",
                                                            options.data, found, entry.path().string(), found)};
    }
    const std::string tag = name.substr(std::string_view("storage-").size());
    if (!names.empty() && !tag.empty() && tag.size() < 10 && std::all_of(tag.begin(), tag.end(), ::isdigit)) {
      held = std::max<int64_t>(held, std::stoll(tag) + 1);
    }
  }
  if (options.config.empty() && held > options.storage_servers) {
    throw StartupError{errc::shard_map_mismatch, fmt::format("the data directory {} holds {} storage servers, more than --storage-servers {}: "
                                   "start with --storage-servers {} (their shards live there)",
                                   options.data, held, options.storage_servers, held)};
  }
}

// --memory, or what the process may use: its cgroup's limit, else the machine's RAM.
int64_t memory_budget_bytes(const ServerOptions& options) {
  if (options.memory.empty()) return detect_memory_limit_bytes();
  const std::optional<int64_t> bytes = parse_byte_size(options.memory);
  if (!bytes || *bytes < (64 << 20)) {
    throw StartupError{errc::invalid_option_value, fmt::format("--memory {}: expected a size of at least 64MiB, such as 512MiB or 4GiB", options.memory)};
  }
  return *bytes;
}

// How long a clean stop waits for the storage servers to make recent writes durable.
constexpr double stop_durable_seconds_max = 15.0;

// On SIGINT/SIGTERM: the storage servers of this process make every committed write durable in
// their engines and pop the logs (StorageStopRequest), so that the next start replays and pulls
// little. The roles keep serving meanwhile; a second signal, or the time limit, stops at once
// (nothing is lost either way: the logs still hold what the engines do not).
void finish_storage_for_stop(RealWorld& world, StorageStopRequest& stop) {
  if (stop.servers == 0) return;
  fmt::print("keel server: stopping: making recent writes durable in the storage engines (at most {:.0f} s; "
             "signal again to stop at once)\n",
             stop_durable_seconds_max);
  std::fflush(stdout);
  const double started = now();
  Future<int> again = world.termination_signal();
  stop.requested.send(Void{});
  Future<std::optional<Void>> finished = timeout(stop.finished.when_at_least(stop.servers), stop_durable_seconds_max);
  Future<std::variant<std::optional<Void>, int>> first = race(finished, again);
  world.run(ready(first));
  if (first.is_error() || first.get().index() == 1) {
    fmt::print("keel server: stopping at once (the next start replays more of the logs)\n");
  } else if (!std::get<0>(first.get()).has_value()) {
    fmt::print("keel server: the storage servers did not finish within {:.0f} s (the next start replays more of the "
               "logs)\n",
               stop_durable_seconds_max);
  } else {
    fmt::print("keel server: recent writes durable in {:.2f} s\n", now() - started);
  }
}

int serve(const ServerOptions& options) {
  // A server outlives whoever reads its output (a launcher that read the first line and closed
  // the pipe): writing to a closed stdout must not kill it.
  std::signal(SIGPIPE, SIG_IGN);
  limit_heap_arenas();
  NetworkAddress requested;
  try {
    requested = NetworkAddress::parse(options.listen);
  } catch (const Error& error) {
    throw StartupError{error.code(), fmt::format("--listen {}: {}, such as 127.0.0.1:4500", options.listen, error.message())};
  }
  if (options.resp_prefix.empty() || static_cast<unsigned char>(options.resp_prefix[0]) == 0xff) {
    throw StartupError{errc::invalid_option_value, "--resp-prefix must be a non-empty prefix below the system keyspace (not starting with \\xff), "
                       "so that the Redis keyspace is a range of its own"};
  }
  check_resp_address(options, requested);
  const int64_t memory_budget = memory_budget_bytes(options);
  const bool created = make_data_directory(options.data);
  DataLock lock(options.data);
  NewDataDirectory new_data(options.data, created);  // after the lock: removed while it is held
  check_storage_of_data(options);
  check_free_space(options.data);
  std::FILE* trace = std::fopen((options.data + "/trace.jsonl").c_str(), "a");
  if (trace != nullptr) std::setvbuf(trace, nullptr, _IOLBF, 1 << 16);
  RealWorld world;
  world.set_memory_budget(memory_budget);
  trace_log().set_output_file(trace);
  Future<int> signal = world.termination_signal();
  NetworkAddress self;
  try {
    self = Transport::current().listen(requested);
  } catch (const Error& error) {
    throw StartupError{error.code(), fmt::format("cannot listen on {}: {} (is another server running there?)",
                                                 options.listen, error.message())};
  }
  std::shared_ptr<IListener> resp_listener = listen_resp(options, world);
  ProcessConfig config = process_config(options, self);
  WorkerOptions worker;
  worker.cluster = std::move(config.cluster);
  worker.data_directory = options.data;
  worker.engine = options.engine;
  worker.process_class = config.process_class;
  StorageStopRequest stop;
  worker.stop = &stop;
  std::error_code unreadable;
  const bool cluster_exists = std::filesystem::exists(options.data + "/cluster", unreadable);
  if (cluster_exists && options.shards_given && options.config.empty()) {
    fmt::print(stderr,
               "keel server: note: --shards shapes only a new cluster; the cluster of {} keeps the shard map stored "
               "in it (data distribution splits and moves shards from there)\n",
               options.data);
  }
  Future<std::shared_ptr<ClusterConnection>> opened =
      open_server_connection(options.data + "/cluster", worker.cluster.coordinators);
  world.run(ready(opened));
  if (opened.is_error()) {
    throw StartupError{opened.error().code(), fmt::format("cannot read {}/cluster: {}", options.data, opened.error().message())};
  }
  worker.connection = opened.get();
  const ClusterConnectionString connection = worker.connection->get();
  const std::vector<NetworkAddress>& coordinators = connection.coordinators;
  check_cluster_of_data(options, self, worker.cluster.coordinators, coordinators);
  // The configuration's first coordinator writes the cluster file, so exactly one process of a
  // cluster does.
  const bool writes_cluster_file = worker.cluster.coordinators.front() == self;
  if (writes_cluster_file) ensure_cluster_file(options.cluster_file, connection);
  new_data.keep();
  fmt::print("keel server: listening on {} ({}), data in {}, engine {}, class {}\n", self.to_string(),
             options.config.empty() ? "embedded: every role in this process" : "static cluster " + options.config,
             options.data, options.engine, worker.process_class);
  fmt::print("keel server: coordinators {}\n", describe_addresses(coordinators));
  if (requested.port == 0) {
    fmt::print("keel server: note: --listen {} picked port {}; the cluster of {} lives at {} now: restart it with "
               "--listen {}\n",
               options.listen, self.port, options.data, self.to_string(), self.to_string());
  }
  fmt::print("keel server: memory budget {} ({} MiB; {})\n", format_bytes(memory_budget), memory_budget / (1 << 20),
             options.memory.empty() ? "detected; set with --memory" : "--memory");
  if (writes_cluster_file) fmt::print("keel server: connect with: keel cli -C {}\n", options.cluster_file);
  std::fflush(stdout);
  Future<Void> resp = never();
  if (resp_listener) {
    RespServerOptions resp_options;
    resp_options.connection = worker.connection;
    resp_options.prefix = options.resp_prefix;
    fmt::print("keel server: Redis clients on {} (redis-cli -p {})\n", resp_listener->address().to_string(),
               resp_listener->address().port);
    resp = run_resp_server(resp_listener, resp_options);
  }
  std::fflush(stdout);
  Future<Void> roles = run_worker(std::move(worker));
  Future<std::variant<Void, Void>> serving = race(roles, first_of(resp, watch_free_space(options.data)));
  Future<std::variant<int, std::variant<Void, Void>>> first = race(signal, serving);
  world.run(ready(first));
  int status = 0;
  if (first.is_error()) {
    fmt::print(stderr, "keel server: stopped: {}\n", first.error().describe());
    if (first.error().code() == errc::disk_full) fmt::print(stderr, "keel server: the data directory is {}\n", options.data);
    status = 1;
  } else if (first.get().index() == 0) {
    finish_storage_for_stop(world, stop);
    fmt::print("keel server: stopped by signal {}\n", std::get<0>(first.get()));
  }
  trace_log().set_output_file(nullptr);
  if (trace != nullptr) std::fclose(trace);
  return status;
}

}  // namespace

Command add_server_command(CLI::App& app) {
  auto options = std::make_shared<ServerOptions>();
  CLI::App* server = app.add_subcommand("server", "Run a KeelDB server process (embedded single-process default)");
  server->add_option("--data", options->data, "Data directory")->capture_default_str();
  server->add_option("--listen", options->listen, "Address to listen on")->capture_default_str();
  server->add_option("--cluster-file", options->cluster_file, "Cluster file to create (first coordinator only)")
      ->capture_default_str();
  server->add_option("--engine", options->engine, "Storage engine")->capture_default_str()->check(CLI::IsMember({"memory", "ssd", "rocksdb"}));
  server->add_option("--class", options->process_class,
                     "Process class: storage hosts only storage servers; the others may host any role "
                     "(default: from --config, else unset)")
      ->capture_default_str()
      ->check(CLI::IsMember({"unset", "storage", "transaction", "stateless"}));
  server->add_option("--config", options->config, "Static cluster configuration (TOML); default: embedded")
      ->check(CLI::ExistingFile);
  server->add_option("--storage-servers", options->storage_servers, "Storage servers (embedded default)")
      ->capture_default_str()->check(CLI::Range(1, 64));
  server->add_option("--shards", options->shards, "Shards of the user keyspace (embedded default)")
      ->capture_default_str()->check(CLI::Range(1, 255));
  server->add_option("--resp", options->resp,
                     "Serve Redis clients on ADDR, or 'off' (default: 127.0.0.1:6380 when embedded)");
  server->add_option("--resp-prefix", options->resp_prefix, "Key prefix of the Redis keyspace (docs/resp.md)");
  server->add_option("--memory", options->memory,
                     "Memory this process may use, e.g. 2GiB: sizes the engine caches and slows commits before it is "
                     "exceeded (default: its cgroup's limit, else the machine's RAM)");
  server->add_option("--knob", options->knobs,
                     "Set a tunable, NAME=VALUE (repeatable), e.g. ratekeeper_storage_window_target_bytes=1e9");
  return {server, [options, server] {
            options->process_class_given = server->count("--class") > 0;
            options->shards_given = server->count("--shards") > 0;
            try {
              if (std::optional<std::string> bad = apply_knob_settings(options->knobs)) throw StartupError{errc::invalid_option_value, *bad};
              return serve(*options);
            } catch (const StartupError& error) {
              fmt::print(stderr, "keel server: {} ({}): {}\n", Error(error.code).name(), error.code, error.message);
              return 1;
            }
          }};
}

}  // namespace keel::cmd
