#include "world/process_memory.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <sstream>

#ifdef KEEL_JEMALLOC
#include <fmt/format.h>
#include <jemalloc/jemalloc.h>

// Two arenas, as limit_heap_arenas() asks of glibc. No transparent huge pages for the heap: a
// server's memory grows by hundreds of megabytes in its first seconds under load (the 5 s window
// of writes in the logs, storage and resolver), and on a virtual machine that hands free memory
// back to its host (free page reporting) a huge page's first touch can be twenty times slower
// per byte than small pages' (docs/runtime.md, "Heap allocator"). Freed pages go back to the
// kernel over about a minute (dirty_decay_ms; jemalloc's default is 10 s), and at once on
// release_free_heap(), which RealWorld calls once the process holds half its memory budget: a
// page handed back and then needed again is a fault, several microseconds on a virtual
// machine, and the 5 s window frees and reuses its memory all the time. MALLOC_CONF overrides.
extern "C" {
const char* malloc_conf = "narenas:2,thp:never,metadata_thp:disabled,dirty_decay_ms:60000";
}
#else
#include <malloc.h>
#endif

namespace keel {
namespace {

// The first number on the line of `file` that starts with `label`, or -1.
int64_t labeled_number(const std::string& file, const std::string& label) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(label, 0) != 0) continue;
    std::istringstream fields(line.substr(label.size()));
    int64_t value = -1;
    fields >> value;
    return value;
  }
  return -1;
}

// The number a cgroup file holds, or -1 ("max", missing, unreadable).
int64_t cgroup_number(const std::string& file) {
  std::ifstream in(file);
  std::string text;
  if (!(in >> text) || text.empty() || !std::isdigit(static_cast<unsigned char>(text[0]))) return -1;
  try {
    return std::stoll(text);
  } catch (...) {
    return -1;
  }
}

// The tightest limit in `file_name` along the cgroup path (a parent's limit binds its children).
int64_t tightest_limit(const std::string& root, std::string path, const std::string& file_name) {
  int64_t limit = -1;
  while (true) {
    const int64_t here = cgroup_number(root + path + "/" + file_name);
    // cgroup v1 reports "no limit" as a page-rounded INT64_MAX.
    if (here > 0 && here < (int64_t{1} << 60)) limit = limit < 0 ? here : std::min(limit, here);
    if (path.empty() || path == "/") return limit;
    path = path.substr(0, path.rfind('/'));
  }
}

int64_t cgroup_limit_bytes() {
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  int64_t limit = -1;
  while (std::getline(in, line)) {
    // "0::/path" (v2) or "N:memory:/path" (v1; controllers may be listed together).
    const size_t first = line.find(':');
    const size_t second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1);
    const std::string path = line.substr(second + 1);
    int64_t here = -1;
    if (controllers.empty()) {
      here = tightest_limit("/sys/fs/cgroup", path, "memory.max");
    } else if (("," + controllers + ",").find(",memory,") != std::string::npos) {
      here = tightest_limit("/sys/fs/cgroup/memory", path, "memory.limit_in_bytes");
    }
    if (here > 0) limit = limit < 0 ? here : std::min(limit, here);
  }
  return limit;
}

}  // namespace

int64_t detect_memory_limit_bytes() {
  const int64_t ram_kib = labeled_number("/proc/meminfo", "MemTotal:");
  const int64_t ram = ram_kib > 0 ? ram_kib * 1024 : -1;
  const int64_t cgroup = cgroup_limit_bytes();
  if (ram < 0) return std::max<int64_t>(cgroup, 0);
  return cgroup > 0 ? std::min(ram, cgroup) : ram;
}

int64_t resident_anonymous_bytes() {
  const int64_t kib = labeled_number("/proc/self/status", "RssAnon:");
  return kib > 0 ? kib * 1024 : 0;
}

#ifdef KEEL_JEMALLOC
void release_free_heap() {
  static const std::string purge_all = fmt::format("arena.{}.purge", MALLCTL_ARENAS_ALL);
  mallctl(purge_all.c_str(), nullptr, nullptr, nullptr, 0);
}

void limit_heap_arenas() {}  // malloc_conf above

std::optional<int64_t> heap_free_page_decay_ms() {
  ssize_t decay = 0;
  size_t size = sizeof(decay);
  if (mallctl("arenas.dirty_decay_ms", &decay, &size, nullptr, 0) != 0) return std::nullopt;
  return static_cast<int64_t>(decay);
}

std::string heap_allocator() {
  const char* version = nullptr;
  size_t size = sizeof(version);
  if (mallctl("version", &version, &size, nullptr, 0) != 0 || version == nullptr) return "jemalloc";
  return fmt::format("jemalloc {}", version);
}
#else
void release_free_heap() { malloc_trim(0); }

void limit_heap_arenas() { mallopt(M_ARENA_MAX, 2); }

std::optional<int64_t> heap_free_page_decay_ms() { return std::nullopt; }

std::string heap_allocator() { return "system malloc"; }
#endif

std::optional<int64_t> parse_byte_size(const std::string& text) {
  size_t used = 0;
  double number = 0;
  try {
    number = std::stod(text, &used);
  } catch (...) {
    return std::nullopt;
  }
  std::string unit = text.substr(used);
  for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  double scale = 1;
  if (!unit.empty() && unit != "B") {
    const std::string prefixes = "KMGT";
    const size_t power = prefixes.find(unit[0]);
    const std::string rest = unit.substr(1);
    if (power == std::string::npos || !(rest.empty() || rest == "B" || rest == "IB")) return std::nullopt;
    scale = std::pow(1024.0, static_cast<double>(power + 1));
  }
  const double bytes = number * scale;
  if (!std::isfinite(bytes) || bytes < 1 || bytes > 9e18) return std::nullopt;
  return static_cast<int64_t>(bytes);
}

}  // namespace keel
