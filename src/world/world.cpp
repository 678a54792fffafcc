#include "world/world.h"

#include "runtime/assert.h"

namespace keel {
namespace {
thread_local std::function<IWorld&()> world_resolver;
}  // namespace

IWorld& world() {
  KEEL_ASSERT(world_resolver);
  return world_resolver();
}

void set_world_resolver(std::function<IWorld&()> resolver) { world_resolver = std::move(resolver); }

Future<Void> IFile::write_and_sync(int64_t offset, std::string data) {
  Future<Void> written = write(offset, std::move(data));
  co_await written;
  Future<Void> synced = sync();
  co_await synced;
  co_return Void{};
}

Future<Void> IFile::write_and_sync_for_commit(int64_t offset, std::string data) {
  if (data.empty()) return sync();
  return write_and_sync(offset, std::move(data));
}

}  // namespace keel
