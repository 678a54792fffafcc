// StaticCluster: provides the "server" process kind: every process of the topology runs a
// worker of one cluster. The first `coordinators` processes are its coordinators; storage
// servers are spread over all processes; the cluster controller recruits the transaction
// roles onto any of them. Options: storage_per_process (1), shards (4), tlogs (1), proxies (1),
// resolvers (1), coordinators (1), replication (1: storage servers per shard, each process a
// zone).
#include <fmt/format.h>

#include "protocol/limits.h"
#include "rpc/transport.h"
#include "server/worker/worker.h"
#include "sim/workload.h"

namespace keel::sim {
namespace {

class StaticCluster final : public Workload {
 public:
  StaticCluster(RunContext& context, const Options& options)
      : context_(context),
        storage_per_process_(static_cast<int>(options.number("storage_per_process", 1))),
        shards_(static_cast<int>(options.number("shards", 4))),
        tlogs_(static_cast<int>(options.number("tlogs", 1))),
        proxies_(static_cast<int>(options.number("proxies", 1))),
        resolvers_(static_cast<int>(options.number("resolvers", 1))),
        coordinators_(static_cast<int>(options.number("coordinators", 1))),
        replication_(static_cast<int>(options.number("replication", 1))) {
    context.coordinators = static_cast<size_t>(coordinators_);
  }

  BootFunction process_kind(const std::string& kind, size_t index) override {
    if (kind != "server") return {};
    return [this, index] { return serve(index); };
  }
  Future<Void> start() override { return Void{}; }

 private:
  ClusterConfig config() const {
    ClusterConfig cluster;
    for (int i = 0; i < coordinators_ && i < static_cast<int>(context_.cluster.size()); ++i) {
      cluster.coordinators.push_back(context_.cluster[static_cast<size_t>(i)]->local_address());
    }
    cluster.proxies = proxies_;
    cluster.tlogs = tlogs_;
    cluster.resolver_ranges = split_by_first_byte(resolvers_, keyspace_end);
    Tag tag = 0;
    for (SimProcess* process : context_.cluster) {
      for (int i = 0; i < storage_per_process_; ++i) {
        cluster.storage.push_back(StorageLocation{RoleLocation{process->local_address(), i}, tag++, ""});
      }
    }
    cluster.storage_replicas = replication_;
    cluster.shards = assign_shards(default_shard_ranges(shards_), cluster.storage, replication_);
    return cluster;
  }

  Future<Void> serve(size_t index) {
    Transport::current().listen(world().local_address());
    co_await yield();  // every process of the topology exists once the first task runs
    WorkerOptions options;
    options.cluster = config();
    options.data_directory = fmt::format("data/server{}", index);
    co_await run_worker(std::move(options));
    co_return Void{};
  }

  RunContext& context_;
  int storage_per_process_, shards_, tlogs_, proxies_, resolvers_, coordinators_, replication_;
};

}  // namespace

std::unique_ptr<Workload> make_static_cluster(RunContext& context, const Options& options) {
  return std::make_unique<StaticCluster>(context, options);
}

}  // namespace keel::sim
