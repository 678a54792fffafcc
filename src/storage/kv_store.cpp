#include "storage/kv_store.h"

#include "storage/memory/memory_kv_store.h"
#include "storage/ssd/ssd_kv_store.h"
#include "storage/rocksdb/rocksdb_kv_store.h"

namespace keel {
Future<std::unique_ptr<IKeyValueStore>> open_kv_store(std::string engine, std::string directory) {
  if (engine == "memory") return open_memory_kv_store(std::move(directory));
  if (engine == "ssd") return open_ssd_kv_store(std::move(directory));
  if (engine == "rocksdb") return open_rocksdb_kv_store(std::move(directory));
  return Error(errc::invalid_option_value);
}

}  // namespace keel
