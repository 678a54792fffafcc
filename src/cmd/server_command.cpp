// `keel server`: one KeelDB process. With no flags, the embedded default: every role in this
// process, data in ./keel-data, cluster file ./keel.cluster naming it, on 127.0.0.1:4500.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "cmd/commands.h"
#include "cmd/static_config.h"
#include "frontend/resp/resp_server.h"
#include "rpc/transport.h"
#include "runtime/combinators.h"
#include "runtime/trace.h"
#include "server/worker/worker.h"
#include "world/real_world.h"

namespace keel::cmd {
namespace {

struct ServerOptions {
  std::string data = "keel-data";
  std::string listen = "127.0.0.1:4500";
  std::string cluster_file = "keel.cluster";
  std::string engine = "memory";
  std::string process_class = "unset";
  std::string config;
  int storage_servers = 2;
  int shards = 4;
  std::string resp;  // Redis front end: ADDR, "off", or empty: 127.0.0.1:6380 when embedded
  std::string resp_prefix = std::string(keel::resp_prefix_default);
};

struct StartupError {
  std::string message;
};

// Holds an exclusive lock on the data directory for the life of the process.
class DataLock {
 public:
  explicit DataLock(const std::string& directory) {
    const std::string path = directory + "/lock";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw StartupError{fmt::format("cannot open {}: {}", path, std::strerror(errno))};
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      throw StartupError{fmt::format("the data directory {} is in use by another keel server "
                                     "(its lock {} is held); stop that server or pass another --data",
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
  if (!in) throw StartupError{fmt::format("cannot read {}", path)};
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Writes the cluster file unless one exists; returns its coordinator line.
std::string ensure_cluster_file(const std::string& path, NetworkAddress coordinator) {
  if (std::filesystem::exists(path)) return read_text(path);
  const std::string line = fmt::format("keel:{:016x}@{}\n", nondeterministic_unique_id(), coordinator.to_string());
  std::ofstream out(path);
  out << line;
  if (!out) throw StartupError{fmt::format("cannot write the cluster file {}", path)};
  return line;
}

ClusterConfig cluster_config(const ServerOptions& options, NetworkAddress self) {
  if (options.config.empty()) return ClusterConfig::single_process(self, options.storage_servers, options.shards);
  try {
    return parse_static_config(read_text(options.config), options.config);
  } catch (const ConfigError& error) {
    throw StartupError{error.message};
  }
}

constexpr const char* resp_address_default = "127.0.0.1:6380";

// Listens for Redis clients as --resp asks. The embedded default's port being taken is not
// fatal (another server may hold it); an address asked for explicitly is.
std::shared_ptr<IListener> listen_resp(const ServerOptions& options, IWorld& world) {
  const bool asked = !options.resp.empty();
  if (options.resp == "off" || (!asked && !options.config.empty())) return nullptr;
  const std::string address = asked ? options.resp : resp_address_default;
  try {
    return world.listen(NetworkAddress::parse(address));
  } catch (const Error& error) {
    if (asked) throw StartupError{fmt::format("cannot listen for Redis clients on {}: {}", address, error.describe())};
    fmt::print(stderr, "keel server: Redis front end not started: {} is in use (pass --resp ADDR or --resp off)\n",
               address);
    return nullptr;
  }
}

int serve(const ServerOptions& options) {
  // A server outlives whoever reads its output (a launcher that read the first line and closed
  // the pipe): writing to a closed stdout must not kill it.
  std::signal(SIGPIPE, SIG_IGN);
  std::filesystem::create_directories(options.data);
  DataLock lock(options.data);
  std::FILE* trace = std::fopen((options.data + "/trace.jsonl").c_str(), "a");
  if (trace != nullptr) std::setvbuf(trace, nullptr, _IOLBF, 1 << 16);
  RealWorld world;
  trace_log().set_output_file(trace);
  Future<int> signal = world.termination_signal();
  const NetworkAddress requested = NetworkAddress::parse(options.listen);
  NetworkAddress self;
  try {
    self = Transport::current().listen(requested);
  } catch (const Error& error) {
    throw StartupError{fmt::format("cannot listen on {}: {} (is another server running there?)", options.listen,
                                   error.describe())};
  }
  std::shared_ptr<IListener> resp_listener = listen_resp(options, world);
  WorkerOptions worker;
  worker.cluster = cluster_config(options, self);
  worker.data_directory = options.data;
  worker.engine = options.engine;
  const bool coordinator = worker.cluster.sequencer == self;
  if (coordinator) ensure_cluster_file(options.cluster_file, self);
  fmt::print("keel server: listening on {} ({}), data in {}, engine {}\n", self.to_string(),
             options.config.empty() ? "embedded: every role in this process" : "static cluster " + options.config,
             options.data, options.engine);
  if (coordinator) fmt::print("keel server: connect with: keel cli -C {}\n", options.cluster_file);
  std::fflush(stdout);
  Future<Void> resp = never();
  if (resp_listener) {
    RespServerOptions resp_options;
    resp_options.coordinator = worker.cluster.sequencer;
    resp_options.prefix = options.resp_prefix;
    fmt::print("keel server: Redis clients on {} (redis-cli -p {})\n", resp_listener->address().to_string(),
               resp_listener->address().port);
    resp = run_resp_server(resp_listener, resp_options);
  }
  std::fflush(stdout);
  Future<Void> roles = run_worker(std::move(worker));
  Future<std::variant<Void, Void>> serving = race(roles, resp);
  Future<std::variant<int, std::variant<Void, Void>>> first = race(signal, serving);
  world.run(ready(first));
  int status = 0;
  if (first.is_error()) {
    fmt::print(stderr, "keel server: stopped: {}\n", first.error().describe());
    status = 1;
  } else if (first.get().index() == 0) {
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
  server->add_option("--cluster-file", options->cluster_file, "Cluster file to create (coordinator only)")
      ->capture_default_str();
  server->add_option("--engine", options->engine, "Storage engine")->capture_default_str()->check(CLI::IsMember({"memory", "ssd", "rocksdb"}));
  server->add_option("--class", options->process_class, "Process class (recorded; used by recruitment later)")
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
  return {server, [options] {
            try {
              return serve(*options);
            } catch (const StartupError& error) {
              fmt::print(stderr, "keel server: {}\n", error.message);
              return 1;
            }
          }};
}

}  // namespace keel::cmd
