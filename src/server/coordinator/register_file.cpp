#include "server/coordinator/register_file.h"

#include "rpc/frame.h"
#include "rpc/serialize.h"
#include "runtime/trace.h"
#include "world/world.h"

namespace keel {
namespace {

constexpr const char* register_name = "register";
constexpr const char* staging_name = "register.new";
constexpr uint64_t register_token = 0;

GenerationRegisterState decode(const std::string& path, const std::string& data) {
  size_t offset = 0;
  Frame frame;
  const FrameStatus status = decode_frame_at(data, offset, frame);
  if (status != FrameStatus::ok || offset != data.size() || frame.token != register_token) {
    TraceEvent(Severity::error, "CoordinatorRegisterCorrupt").detail("Path", path).detail("Bytes", data.size());
    throw Error(errc::checksum_failed);
  }
  return deserialize_from_string<GenerationRegisterState>(frame.message);
}

}  // namespace

Future<GenerationRegisterState> load_register(std::string directory) {
  IWorld& files = world();
  Future<Void> made = files.create_directories(directory);
  co_await made;
  const std::string staging = directory + "/" + staging_name;
  if (co_await files.file_exists(staging)) {
    // A save that did not finish: never acknowledged, so the previous state stands.
    Future<Void> deleted = files.delete_file(staging);
    co_await deleted;
  }
  const std::string path = directory + "/" + register_name;
  const bool saved_before = co_await files.file_exists(path);
  if (!saved_before) co_return GenerationRegisterState();
  std::shared_ptr<IFile> file = co_await files.open_file(path, open_flags::read_only);
  const int64_t size = co_await file->size();
  const std::string data = co_await file->read(0, size);
  GenerationRegisterState state = decode(path, data);
  GenerationRegister check(state);  // asserts the invariants of what was read
  co_return state;
}

Future<Void> save_register(std::string directory, GenerationRegisterState state) {
  std::string bytes;
  encode_frame(register_token, serialize_to_string(state), bytes);
  const std::string staging = directory + "/" + staging_name;
  IWorld& files = world();
  std::shared_ptr<IFile> file = co_await files.open_file(staging, open_flags::read_write | open_flags::create);
  co_await file->truncate(0);
  co_await file->write(0, std::move(bytes));
  co_await file->sync();
  Future<Void> renamed = files.rename_file(staging, directory + "/" + register_name);
  co_await renamed;
  co_return Void{};
}

}  // namespace keel
