// keel bench rpc: loopback RPC round trips per second with 1 and 64 requests in flight, each
// next to the raw-socket ping-pong measured in the same run; the ratio is the figure.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

#include "bench/benches.h"
#include "rpc/echo_service.h"
#include "runtime/combinators.h"
#include "world/real_world.h"

namespace keel::bench {
namespace {

// A `keel echo serve` child process on 127.0.0.1 (started with fork and exec, before any
// thread exists in this process).
class EchoServerProcess {
 public:
  explicit EchoServerProcess(const std::string& keel_binary) {
    int out[2];
    if (::pipe(out) != 0) throw std::runtime_error("bench: pipe failed");
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      ::close(out[0]);
      ::execl(keel_binary.c_str(), keel_binary.c_str(), "echo", "serve", "--listen", "127.0.0.1:0", nullptr);
      ::_exit(127);
    }
    ::close(out[1]);
    std::FILE* output = ::fdopen(out[0], "r");
    char line[256] = {};
    if (std::fgets(line, sizeof(line), output) == nullptr) throw std::runtime_error("bench: echo server did not start");
    std::fclose(output);
    std::string text(line);
    const std::string prefix = "echo: listening on ";
    if (text.rfind(prefix, 0) != 0) throw std::runtime_error("bench: unexpected echo server output: " + text);
    address_ = NetworkAddress::parse(text.substr(prefix.size(), text.find_last_not_of("\r\n") + 1 - prefix.size()));
  }
  ~EchoServerProcess() {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
  }
  NetworkAddress address() const { return address_; }

 private:
  pid_t pid_ = -1;
  NetworkAddress address_;
};

double keel_round_trips(NetworkAddress server, uint64_t count, int in_flight, size_t payload_bytes) {
  RealWorld world;
  Future<EchoLoadResult> load = timeout_error(run_echo_load(server, count, in_flight, payload_bytes), 120.0);
  world.run(ready(load));
  const EchoLoadResult& result = load.get();
  if (result.matched != count) throw std::runtime_error("bench: echo replies did not all match");
  return static_cast<double>(result.matched) / result.seconds;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace

int run_rpc_bench(const RpcBenchOptions& options) {
  EchoServerProcess server(options.keel_binary);
  fmt::print("keel bench rpc: {}-byte payloads, {} round trips per measurement, median of {} rounds\n",
             options.payload_bytes, options.round_trips, options.rounds);
  fmt::print("{:>9} | {:>18} | {:>18} | {:>5}\n", "in flight", "raw round trips/s", "keel RPC trips/s", "ratio");
  for (int in_flight : {1, 64}) {
    std::vector<double> raw, rpc;
    for (int round = 0; round < options.rounds; ++round) {
      // Alternate so that background noise hits both sides alike.
      raw.push_back(raw_ping_pong(options.round_trips, in_flight, options.payload_bytes));
      rpc.push_back(keel_round_trips(server.address(), options.round_trips, in_flight, options.payload_bytes));
    }
    const double raw_median = median(raw);
    const double rpc_median = median(rpc);
    fmt::print("{:>9} | {:>18.0f} | {:>18.0f} | {:>5.2f}\n", in_flight, raw_median, rpc_median, rpc_median / raw_median);
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace keel::bench
