#include "storage/kv_store.h"

#include "storage/memory/memory_kv_store.h"

namespace keel {

Future<std::unique_ptr<IKeyValueStore>> open_kv_store(std::string engine, std::string directory) {
  if (engine == "memory") return open_memory_kv_store(std::move(directory));
  return Error(errc::invalid_option_value);
}

}  // namespace keel
