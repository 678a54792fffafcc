// `keel echo serve|ping`: the RPC echo service between real processes, for tests and benchmarks.
#include <fmt/format.h>

#include "cmd/commands.h"
#include "rpc/echo_service.h"
#include "runtime/combinators.h"
#include "world/real_world.h"

namespace keel::cmd {
namespace {

struct EchoOptions {
  std::string listen = "127.0.0.1:0";
  std::string connect;
  uint64_t count = 1000;
  int in_flight = 1;
  size_t size = 64;
  double timeout_seconds = 60;
};

int serve(const EchoOptions& options) {
  RealWorld world;
  Future<int> signal = world.termination_signal();
  const NetworkAddress address = Transport::current().listen(NetworkAddress::parse(options.listen));
  fmt::print("echo: listening on {}\n", address.to_string());
  std::fflush(stdout);
  Future<Void> serving = serve_echo();
  world.run(ready(signal));
  fmt::print("echo: stopped by signal {}\n", signal.get());
  return 0;
}

int ping(const EchoOptions& options) {
  RealWorld world;
  const NetworkAddress address = NetworkAddress::parse(options.connect);
  Future<EchoLoadResult> load = timeout_error(
      run_echo_load(address, options.count, options.in_flight, options.size), options.timeout_seconds);
  world.run(ready(load));
  if (load.is_error()) {
    fmt::print(stderr, "echo: {}\n", load.error().describe());
    return 1;
  }
  const EchoLoadResult& result = load.get();
  fmt::print("echo: {} sent, {} matched, {} mismatched, {} errors, {:.0f} round trips/s\n", result.sent,
             result.matched, result.mismatched, result.errors,
             result.seconds > 0 ? static_cast<double>(result.matched) / result.seconds : 0.0);
  if (result.errors > 0) fmt::print(stderr, "echo: first error: {}\n", result.first_error.describe());
  return result.matched == options.count ? 0 : 1;
}

}  // namespace

Command add_echo_command(CLI::App& app) {
  auto options = std::make_shared<EchoOptions>();
  CLI::App* echo = app.add_subcommand("echo", "RPC echo service between processes (tests, benchmarks)");
  echo->require_subcommand(1);
  CLI::App* serve_command = echo->add_subcommand("serve", "Serve echo requests until SIGINT/SIGTERM");
  serve_command->add_option("--listen", options->listen, "Address to listen on (port 0 picks one)")
      ->capture_default_str();
  CLI::App* ping_command = echo->add_subcommand("ping", "Send echo requests and check every reply");
  ping_command->add_option("--connect", options->connect, "Address of an echo server")->required();
  ping_command->add_option("--count", options->count, "Requests to send")->capture_default_str()
      ->check(CLI::Range(1, 1'000'000'000));
  ping_command->add_option("--in-flight", options->in_flight, "Requests outstanding at a time")
      ->capture_default_str()->check(CLI::Range(1, 100000));
  ping_command->add_option("--size", options->size, "Payload bytes per request")->capture_default_str()
      ->check(CLI::Range(0, 1 << 20));
  ping_command->add_option("--timeout", options->timeout_seconds, "Give up after this many seconds")
      ->capture_default_str()->check(positive_seconds());
  return {echo, [options, serve_command] { return serve_command->parsed() ? serve(*options) : ping(*options); }};
}

}  // namespace keel::cmd
