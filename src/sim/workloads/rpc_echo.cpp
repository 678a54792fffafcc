// RpcEcho: every simulated process serves echo and sends echo requests to random other
// processes, under whatever faults the spec adds. Invariants:
// - every reply matches its request (text and sequence number);
// - every request ends, in a reply or an RPC error, within reply_bound_seconds (no hang);
// - the only errors are the ones the RPC layer promises (connection_failed,
//   request_maybe_delivered, broken_promise);
// - liveness: after faults stop, the tester gets an echo from every process within the bound.
#include <fmt/format.h>

#include <map>

#include "rpc/echo_service.h"
#include "runtime/combinators.h"
#include "runtime/trace.h"
#include "sim/workload.h"
#include "sim/workloads/workload_support.h"

namespace keel::sim {
namespace {

class RpcEcho final : public Workload {
 public:
  RpcEcho(RunContext& context, const Options& options)
      : context_(context),
        requests_per_second_(options.number("requests_per_second", 2)),
        reply_bound_seconds_(options.number("reply_bound_seconds", 30)),
        payload_bytes_max_(static_cast<int64_t>(options.number("payload_bytes_max", 256))) {}

  BootFunction process_kind(const std::string& kind, size_t index) override {
    if (kind != "echo") return {};
    return [this, index] { return echo_process(index); };
  }

  Future<Void> start() override { return never(); }

  Future<std::vector<std::string>> check() override {
    const double checked_at = now();
    for (const auto& [id, started] : outstanding_) {
      if (checked_at - started > reply_bound_seconds_) {
        problem(fmt::format("request {} has been outstanding for {:.1f}s (bound {}s)", id,
                            checked_at - started, reply_bound_seconds_));
      }
    }
    // Liveness: every process answers the tester once faults have stopped.
    for (SimProcess* process : context_.cluster) {
      Future<Void> answered = echo_until_answered(process->local_address());
      co_await answered;
    }
    if (replied_ == 0) problem("no echo request was ever answered");
    TraceEvent("RpcEchoResults")
        .detail("Sent", sent_)
        .detail("Replied", replied_)
        .detail("Errors", errors_)
        .detail("Abandoned", abandoned_)
        .detail("LongestSeconds", longest_seconds_);
    co_return problems_.list();
  }

 private:
  // Removes a request from the ledger when its sender is killed mid-request.
  struct LedgerEntry {
    RpcEcho* workload;
    uint64_t id;
    bool finished = false;
    ~LedgerEntry() {
      if (!finished) {
        workload->outstanding_.erase(id);
        ++workload->abandoned_;
      }
    }
  };

  Future<Void> echo_process(size_t index) {
    Transport::current().listen(world().local_address());
    ActorCollection actors;
    actors.add(serve_echo());
    DeterministicRandom& random = context_.simulator.random();
    while (true) {
      co_await delay(random.random_exponential(1.0 / requests_per_second_));
      size_t target = index;
      while (target == index && context_.cluster.size() > 1) {
        target = static_cast<size_t>(random.random_int(0, static_cast<int64_t>(context_.cluster.size())));
      }
      actors.add(one_request(context_.cluster[target]->local_address()));
    }
  }

  Future<Void> one_request(NetworkAddress target) {
    DeterministicRandom& random = context_.simulator.random();
    EchoRequest request;
    request.sequence = next_id_++;
    request.text = fmt::format("{}:{}", request.sequence, std::string(static_cast<size_t>(random.random_int(0, payload_bytes_max_ + 1)), 'p'));
    const double started = now();
    outstanding_[request.sequence] = started;
    LedgerEntry entry{this, request.sequence};
    ++sent_;
    try {
      Future<EchoReply> pending = echo_service_at(target).get_reply(request);
      EchoReply reply = co_await pending;
      if (reply.sequence != request.sequence || reply.text != request.text) {
        problem(fmt::format("request {} got the reply of request {}", request.sequence, reply.sequence));
      }
      ++replied_;
    } catch (const Error& error) {
      ++errors_;
      if (error.code() != errc::connection_failed && error.code() != errc::request_maybe_delivered &&
          error.code() != errc::broken_promise) {
        problem(fmt::format("request {} failed with unexpected {}", request.sequence, error.describe()));
      }
    }
    const double elapsed = now() - started;
    longest_seconds_ = std::max(longest_seconds_, elapsed);
    if (elapsed > reply_bound_seconds_) {
      problem(fmt::format("request {} took {:.1f}s to end (bound {}s)", request.sequence, elapsed, reply_bound_seconds_));
    }
    outstanding_.erase(request.sequence);
    entry.finished = true;
    co_return Void{};
  }

  Future<Void> echo_until_answered(NetworkAddress target) {
    while (true) {
      EchoRequest request;
      request.sequence = next_id_++;
      request.text = "liveness";
      try {
        Future<EchoReply> pending = echo_service_at(target).get_reply(request);
        EchoReply reply = co_await pending;
        if (reply.sequence == request.sequence) co_return Void{};
      } catch (const Error&) {
      }
      co_await delay(0.25);
    }
  }

  void problem(std::string text) { problems_.add(std::move(text)); }

  RunContext& context_;
  double requests_per_second_;
  double reply_bound_seconds_;
  int64_t payload_bytes_max_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, double> outstanding_;
  uint64_t sent_ = 0, replied_ = 0, errors_ = 0, abandoned_ = 0;
  double longest_seconds_ = 0;
  ProblemLog problems_{"RpcEchoProblem"};
};

}  // namespace

std::unique_ptr<Workload> make_rpc_echo_workload(RunContext& context, const Options& options) {
  return std::make_unique<RpcEcho>(context, options);
}

}  // namespace keel::sim
