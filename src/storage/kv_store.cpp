#include "storage/kv_store.h"

#include "runtime/trace.h"
#include "storage/memory/memory_kv_store.h"
#include "storage/rocksdb/rocksdb_kv_store.h"
#include "storage/ssd/ssd_kv_store.h"
#include "world/world.h"

namespace keel {
namespace {

// Refuses to open `engine` over another engine's files: it would start empty, and the data
// the other engine holds would be lost to the cluster.
Future<Void> check_engine_of(const std::string& engine, const std::string& directory) {
  const bool exists = co_await world().file_exists(directory);
  if (!exists) co_return Void{};
  const std::string found = engine_of_files(co_await world().list_directory(directory));
  if (!found.empty() && found != engine) {
    TraceEvent(Severity::error, "StorageEngineMismatch")
        .detail("Directory", directory)
        .detail("Found", found)
        .detail("Asked", engine);
    throw Error(errc::engine_mismatch);
  }
  co_return Void{};
}

}  // namespace

std::string engine_of_files(const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    if (name == "data.mdb") return "ssd";
    if (name == "CURRENT" || name.starts_with("MANIFEST-")) return "rocksdb";
    if (name.starts_with("log-") || name.starts_with("snapshot-")) return "memory";
  }
  return "";
}

Future<std::unique_ptr<IKeyValueStore>> open_kv_store(std::string engine, std::string directory) {
  if (engine != "memory" && engine != "ssd" && engine != "rocksdb") throw Error(errc::invalid_option_value);
  co_await check_engine_of(engine, directory);
  if (engine == "memory") co_return co_await open_memory_kv_store(std::move(directory));
  if (engine == "ssd") co_return co_await open_ssd_kv_store(std::move(directory));
  co_return co_await open_rocksdb_kv_store(std::move(directory));
}

}  // namespace keel
