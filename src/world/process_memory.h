// Memory facts of this (real, Linux) process: how much it may use and how much it holds.
// Used by RealWorld::process_memory() and `keel server --memory`; never in simulation.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace keel {

// The memory this process may use: the smaller of its memory cgroup's limit (v2 memory.max or
// v1 memory.limit_in_bytes, the tightest along its path) and the machine's RAM; 0 if neither
// can be read.
int64_t detect_memory_limit_bytes();

// Resident anonymous memory (RssAnon of /proc/self/status), in bytes; 0 if unreadable.
int64_t resident_anonymous_bytes();

// The heap allocator's name: jemalloc, linked into every build but the sanitizers' (which bring
// their own); see docs/runtime.md, "Heap allocator".
std::string heap_allocator();

// How long the heap keeps a freed page before it goes back to the kernel, in milliseconds
// (jemalloc's dirty_decay_ms; -1: until release_free_heap); nullopt for an allocator without it.
std::optional<int64_t> heap_free_page_decay_ms();

// Gives the allocator's free heap pages back to the kernel (a purge of jemalloc's arenas, or
// glibc's malloc_trim).
void release_free_heap();

// Makes every thread allocate from at most two heap arenas (glibc makes up to 8 per core; with
// jemalloc, malloc_conf in process_memory.cpp does it at startup). Call before threads start. The engines' threads free what the event loop allocated and the other
// way round; with an arena per thread, memory freed in one arena cannot serve another's
// allocations, and the process held a third more for the same data (a 10 M-key load).
void limit_heap_arenas();

// "512MiB", "2G", "1.5GiB", "100000000": bytes (K, M, G, T are powers of 1024, with or without
// "iB"/"B"); nullopt when not a positive size.
std::optional<int64_t> parse_byte_size(const std::string& text);

}  // namespace keel
