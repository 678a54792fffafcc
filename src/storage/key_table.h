// KeyTable: a hash table from keys to values for hot paths that look up one key at a time.
// Open addressing with linear probing over slots of (hash, entry address): a lookup of an absent
// key usually touches one slot's cache line, a present one that line and its entry, where a
// node-based std::unordered_map walks a bucket, the node before and the node. An entry is one
// allocation with its key's bytes right after its value, so comparing the key does not reach
// for a second block as a std::string's would (most keys are longer than its 15 inline bytes).
// Entries are allocated one by one and never move, so their addresses can be held elsewhere. They leave one
// at a time (erase: the slots after it that probed past it shift back, so there are no
// tombstones) or in bulk (erase_if, which refills the slots in place and may shrink them).
//
// Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <new>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/types.h"

namespace keel {

// For a loop of lookups of `count` keys in a KeyTable (or something built on one): called before
// the i-th, it asks `prefetch(key, stage)` (KeyTable::prefetch's stages) for the slot of the key
// 16 ahead and the entry of the key 8 ahead, so that their misses overlap the lookups between.
// `key_at(j)` gives the j-th key.
template <class KeyAt, class Prefetch>
void prefetch_ahead(size_t i, size_t count, KeyAt key_at, Prefetch prefetch) {
  constexpr size_t slots_ahead = 16;
  constexpr size_t entries_ahead = 8;
  if (i + slots_ahead < count) prefetch(key_at(i + slots_ahead), 0);
  if (i + entries_ahead < count) prefetch(key_at(i + entries_ahead), 1);
}

template <class Value>
class KeyTable {
 public:
  class Entry {
   public:
    Entry(const Entry&) = delete;
    Entry& operator=(const Entry&) = delete;
    std::string_view key() const { return {reinterpret_cast<const char*>(this + 1), key_size_}; }
    Value value{};

   private:
    friend class KeyTable;
    explicit Entry(size_t key_size) : key_size_(key_size) {}
    const size_t key_size_;
  };

  KeyTable() { slots_.resize(initial_slots); }
  KeyTable(const KeyTable&) = delete;
  KeyTable& operator=(const KeyTable&) = delete;
  KeyTable(KeyTable&& other) : KeyTable() { swap(other); }
  KeyTable& operator=(KeyTable&& other) {
    KeyTable gone;
    gone.swap(other);
    swap(gone);
    return *this;
  }
  ~KeyTable() {
    for (const Slot& slot : slots_) destroy(slot.entry);
  }

  void swap(KeyTable& other) noexcept {
    slots_.swap(other.slots_);
    std::swap(size_, other.size_);
  }

  size_t size() const { return size_; }
  // Slots allocated (a power of two, more than twice size()).
  size_t slot_count() const { return slots_.size(); }

  Entry* find(std::string_view key) const {
    const uint64_t hash = hash_of(key);
    for (size_t i = hash & mask(); slots_[i].entry != nullptr; i = (i + 1) & mask()) {
      if (slots_[i].hash == hash && slots_[i].entry->key() == key) return slots_[i].entry;
    }
    return nullptr;
  }

  // A hint that find(key) follows soon, for a batch of lookups whose memory misses then overlap:
  // stage 0 prefetches the slot the key hashes to; stage 1 (after the slots of the batch have
  // had time to arrive) the entry whose hash matches there.
  void prefetch(std::string_view key, int stage) const {
    const uint64_t hash = hash_of(key);
    size_t i = hash & mask();
    if (stage == 0) {
      __builtin_prefetch(&slots_[i]);
      return;
    }
    for (; slots_[i].entry != nullptr; i = (i + 1) & mask()) {
      if (slots_[i].hash == hash) {
        __builtin_prefetch(slots_[i].entry);
        return;
      }
    }
  }

  // Calls `visit(entry)` for every entry, in no particular order. Reads the slots only, so it may
  // run beside code that holds entry addresses elsewhere (and reorders those), not beside changes.
  template <class Visit>
  void for_each(Visit visit) const {
    for (const Slot& slot : slots_) {
      if (slot.entry != nullptr) visit(static_cast<const Entry&>(*slot.entry));
    }
  }

  // The entry of `key`, made with a default value if missing (then true).
  std::pair<Entry*, bool> try_emplace(std::string_view key) {
    const uint64_t hash = hash_of(key);
    size_t i = hash & mask();
    for (; slots_[i].entry != nullptr; i = (i + 1) & mask()) {
      if (slots_[i].hash == hash && slots_[i].entry->key() == key) return {slots_[i].entry, false};
    }
    Entry* entry = create(key);
    slots_[i] = Slot{hash, entry};
    if (2 * ++size_ > slots_.size()) rebuild(2 * slots_.size());
    return {entry, true};
  }

  // Deletes the entry of `key`; false if there is none.
  bool erase(std::string_view key) {
    const uint64_t hash = hash_of(key);
    size_t i = hash & mask();
    for (; slots_[i].entry != nullptr; i = (i + 1) & mask()) {
      if (slots_[i].hash == hash && slots_[i].entry->key() == key) break;
    }
    if (slots_[i].entry == nullptr) return false;
    destroy(slots_[i].entry);
    --size_;
    // Backward shift: an entry further along the run moves into the hole unless its home slot
    // lies cyclically after the hole (up to where it sits), where a lookup would not pass the hole.
    for (size_t j = (i + 1) & mask(); slots_[j].entry != nullptr; j = (j + 1) & mask()) {
      const size_t home = slots_[j].hash & mask();
      const bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
      if (stays) continue;
      slots_[i] = slots_[j];
      i = j;
    }
    slots_[i] = Slot{};
    return true;
  }

  // Deletes every entry for which `pred(entry)` holds. The slots stay as many unless under a
  // sixteenth would be in use (then a quarter is): a table that is purged and refilled in
  // cycles neither shrinks nor grows each time.
  template <class Pred>
  void erase_if(Pred pred) {
    std::vector<Slot> kept;
    for (Slot& slot : slots_) {
      if (slot.entry == nullptr) continue;
      if (pred(*slot.entry)) destroy(slot.entry);
      else kept.push_back(slot);
      slot = Slot{};
    }
    size_ = kept.size();
    if (16 * size_ < slots_.size()) {
      size_t count = initial_slots;
      while (4 * size_ > count) count *= 2;
      if (count < slots_.size()) std::vector<Slot>(count).swap(slots_);
    }
    for (const Slot& slot : kept) place(slot);
  }

 private:
  struct Slot {
    uint64_t hash = 0;
    Entry* entry = nullptr;
  };
  static constexpr size_t initial_slots = 64;

  static uint64_t hash_of(std::string_view key) { return std::hash<std::string_view>{}(key); }

  static Entry* create(std::string_view key) {
    void* memory = ::operator new(sizeof(Entry) + key.size());
    Entry* entry = new (memory) Entry(key.size());
    if (!key.empty()) std::memcpy(reinterpret_cast<char*>(entry + 1), key.data(), key.size());
    return entry;
  }
  static void destroy(Entry* entry) {
    if (entry == nullptr) return;
    const size_t bytes = sizeof(Entry) + entry->key_size_;
    entry->~Entry();
    ::operator delete(entry, bytes);
  }
  size_t mask() const { return slots_.size() - 1; }

  // Moves the entries into `count` slots (a power of two, at least twice the entries).
  void rebuild(size_t count) {
    std::vector<Slot> old(count);
    old.swap(slots_);
    for (const Slot& slot : old) {
      if (slot.entry != nullptr) place(slot);
    }
  }

  // Puts `slot` at the first free slot from its home.
  void place(const Slot& slot) {
    size_t i = slot.hash & mask();
    while (slots_[i].entry != nullptr) i = (i + 1) & mask();
    slots_[i] = slot;
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;
};

}  // namespace keel
