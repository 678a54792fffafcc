#include "sim/workload.h"

namespace keel::sim {

const std::map<std::string, WorkloadFactory>& workload_factories() {
  static const std::map<std::string, WorkloadFactory> factories = {
      {"RpcEcho", make_rpc_echo_workload},
      {"StaticCluster", make_static_cluster},
      {"Cycle", make_cycle},
      {"Bank", make_bank},
      {"Serializability", make_serializability},
      {"ReadYourWrites", make_read_your_writes},
      {"Durability", make_durability},
      {"Coordination", make_coordination},
      {"Watches", make_watches},
      {"RecoveryTime", make_recovery_time},
      {"IsolateRole", make_isolate_role},
      {"StaleReadVersion", make_stale_read_version},
      {"ChangeCoordinators", make_change_coordinators},
      {"ChangeSettings", make_change_settings},
      {"MoveData", make_move_data},
      {"Throttling", make_throttling},
      {"Attrition", make_attrition},
      {"RandomClogging", make_random_clogging},
      {"Partitions", make_partitions},
      {"ClockSkew", make_clock_skew},
      {"ConnectionFailures", make_connection_failures},
  };
  return factories;
}

}  // namespace keel::sim
