// OBJECT and MEMORY USAGE: what Redis tools and tests ask about a key's representation. KeelDB
// has no encodings or shared objects, so the answers describe what Redis would use for such a
// value (by size only: a hash's field sizes are not read) and every key has one reference.
#include "frontend/resp/commands.h"

namespace keel {
namespace {

constexpr int64_t embedded_string_bytes_max = 44;  // Redis's embstr limit
constexpr int64_t listpack_entries_max = 128;       // hash-max-listpack-entries' default
constexpr int64_t per_field_bytes_estimate = 32;

std::string_view encoding_of(const KeyMeta& meta) {
  if (meta.type == KeyType::hash) return meta.hash_fields <= listpack_entries_max ? "listpack" : "hashtable";
  int64_t number = 0;
  if (meta.value.size() <= 20 && parse_int64(meta.value, number)) return "int";
  return static_cast<int64_t>(meta.value.size()) <= embedded_string_bytes_max ? "embstr" : "raw";
}

// OBJECT ENCODING|REFCOUNT|IDLETIME|FREQ key, OBJECT HELP
Future<Void> object(CommandContext& c) {
  const std::string sub = lowercase(c.args[1]);
  if (sub == "help" && c.args.size() == 2) {
    c.out.array(4);
    c.out.simple("OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
    c.out.simple("ENCODING <key>");
    c.out.simple("IDLETIME <key>");
    c.out.simple("REFCOUNT <key>");
    co_return Void{};
  }
  if (sub != "encoding" && sub != "refcount" && sub != "idletime" && sub != "freq") {
    c.out.error("ERR unknown subcommand '" + c.args[1] + "'. Try OBJECT HELP.");
    co_return Void{};
  }
  if (c.args.size() != 3) {
    c.out.error(wrong_arity_error("object|" + sub));
    co_return Void{};
  }
  KeyRecord record = co_await c.store->load(c.args[2]);
  if (!record.alive()) {
    c.out.null();
  } else if (sub == "encoding") {
    c.out.bulk(encoding_of(record.meta));
  } else if (sub == "refcount") {
    c.out.integer(1);
  } else if (sub == "idletime") {
    c.out.integer(0);
  } else {
    c.out.error(
        "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching "
        "between policies at runtime LRU and LFU data will take some time to adjust.");
  }
  co_return Void{};
}

// MEMORY USAGE key [SAMPLES count]: an estimate from the key's and value's sizes.
Future<Void> memory(CommandContext& c) {
  const std::string sub = lowercase(c.args[1]);
  if (sub != "usage") {
    c.out.error("ERR unknown subcommand '" + c.args[1] + "'. Try MEMORY HELP.");
    co_return Void{};
  }
  if (c.args.size() != 3 && c.args.size() != 5) {
    c.out.error(c.args.size() < 3 ? wrong_arity_error("memory|usage") : std::string(resp_errors::syntax));
    co_return Void{};
  }
  if (c.args.size() == 5) {
    int64_t samples = 0;
    if (!equals_ignore_case(c.args[3], "samples")) {
      c.out.error(resp_errors::syntax);
      co_return Void{};
    }
    if (!integer_argument(c, 4, samples)) co_return Void{};
  }
  KeyRecord record = co_await c.store->load(c.args[2]);
  if (!record.alive()) {
    c.out.null();
    co_return Void{};
  }
  const auto key_bytes = static_cast<int64_t>(c.args[2].size());
  const int64_t value_bytes = record.meta.type == KeyType::hash ? record.meta.hash_fields * per_field_bytes_estimate
                                                                 : static_cast<int64_t>(record.meta.value.size());
  c.out.integer(key_bytes + value_bytes + 16);
  co_return Void{};
}

}  // namespace

std::vector<CommandSpec> introspection_commands() {
  return {
      {"object", -2, command_flags::readonly | command_flags::lookups, 2, 2, 1, object},
      {"memory", -2, command_flags::readonly, 2, 2, 1, memory},
  };
}

}  // namespace keel
