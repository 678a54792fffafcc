// KeyFilter: a Bloom filter of the keys an engine holds, so that a point read of a key the
// engine never held (most reads of a cache's misses, and every Redis SET of a new key, which
// reads the record it replaces) is answered in memory without the engine's lookup. It answers
// "maybe" for every key added and "no" for almost every other key (about 1% false positives at
// 10 bits a key).
//
// Blocked: each key sets and tests `probes` bits of one 512-bit block (one cache line), so a
// lookup costs one memory miss per layer. Layers: a layer holds `capacity` keys; when the newest
// is full, a layer of four times its capacity is added (the others keep their bits), so the
// filter grows with the keyspace and never needs the keys again, in few layers (a lookup of an
// absent key tests each, and each adds its false positives). add() skips a key the filter
// already answers "maybe" for, so rewriting the same keys does not grow it.
//
// Keys are never removed: a cleared key stays "maybe" (a false positive, which costs only the
// engine's lookup) until the filter is rebuilt from the engine's keys at the next open.
// Header-only, so any engine's library can use it. Not thread-safe: one thread at a time.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

namespace keel {

class KeyFilter {
 public:
  // Bits a key gets in a layer; about 1% false positives at 10.
  static constexpr double bits_per_key_default = 10.0;
  static constexpr uint64_t first_capacity_default = 1 << 16;

  // `first_capacity`: keys the first layer holds before a second one is added.
  explicit KeyFilter(uint64_t first_capacity = first_capacity_default, double bits_per_key = bits_per_key_default)
      : first_capacity_(std::max<uint64_t>(first_capacity, 1024)), bits_per_key_(std::max(bits_per_key, 2.0)) {}

  // False only when `key` was never added.
  bool may_contain(std::string_view key) const {
    const Hashes hashes = hashes_of(key);
    for (const Layer& layer : layers_) {
      if (layer.test(hashes)) return true;
    }
    return false;
  }

  // True when `key` was new to the filter (it was never added before); false when it may have been.
  bool add(std::string_view key) {
    const Hashes hashes = hashes_of(key);
    for (const Layer& layer : layers_) {
      if (layer.test(hashes)) return false;
    }
    if (layers_.empty() || layers_.back().keys >= layers_.back().capacity) {
      add_layer(layers_.empty() ? first_capacity_ : layers_.back().capacity * growth);
    }
    layers_.back().set(hashes);
    return true;
  }

  // Takes every key of `other` (its layers join this filter's).
  void merge(KeyFilter&& other) {
    for (Layer& layer : other.layers_) layers_.push_back(std::move(layer));
    bytes_ += other.bytes_;
    other.layers_.clear();
    other.bytes_ = 0;
  }

  // Keys added (each counted once, false positives aside).
  uint64_t keys() const {
    uint64_t total = 0;
    for (const Layer& layer : layers_) total += layer.keys;
    return total;
  }
  int64_t bytes() const { return bytes_; }
  size_t layers() const { return layers_.size(); }

 private:
  static constexpr int block_bits = 512;
  static constexpr int probes = 6;  // each takes 9 bits of the second hash
  static constexpr uint64_t growth = 4;  // a new layer's capacity over the last one's
  using Block = std::array<uint64_t, block_bits / 64>;

  struct Hashes {
    uint64_t block;  // picks the block
    uint64_t bits;   // picks the bits in it
  };

  static Hashes hashes_of(std::string_view key) {
    const uint64_t first = std::hash<std::string_view>{}(key);
    uint64_t second = first * 0x9e3779b97f4a7c15ull;  // an independent-enough mix of the first
    second ^= second >> 29;
    second *= 0xbf58476d1ce4e5b9ull;
    second ^= second >> 32;
    return Hashes{first, second};
  }

  struct Layer {
    std::vector<Block> blocks;
    uint64_t capacity = 0;
    uint64_t keys = 0;

    size_t index_of(const Hashes& hashes) const {
      // The high bits of hash * size: an even spread over any number of blocks.
      return static_cast<size_t>((static_cast<unsigned __int128>(hashes.block) * blocks.size()) >> 64);
    }
    bool test(const Hashes& hashes) const {
      const Block& block = blocks[index_of(hashes)];
      for (int i = 0; i < probes; ++i) {
        const unsigned bit = static_cast<unsigned>(hashes.bits >> (9 * i)) & (block_bits - 1);
        if ((block[bit / 64] & (uint64_t{1} << (bit % 64))) == 0) return false;
      }
      return true;
    }
    void set(const Hashes& hashes) {
      Block& block = blocks[index_of(hashes)];
      for (int i = 0; i < probes; ++i) {
        const unsigned bit = static_cast<unsigned>(hashes.bits >> (9 * i)) & (block_bits - 1);
        block[bit / 64] |= uint64_t{1} << (bit % 64);
      }
      ++keys;
    }
  };

  void add_layer(uint64_t capacity) {
    Layer& layer = layers_.emplace_back();
    layer.capacity = capacity;
    const double bits = static_cast<double>(capacity) * bits_per_key_;
    layer.blocks.resize(std::max<size_t>(1, static_cast<size_t>(bits / block_bits) + 1));
    bytes_ += static_cast<int64_t>(layer.blocks.size() * sizeof(Block));
  }

  uint64_t first_capacity_;
  double bits_per_key_;
  std::vector<Layer> layers_;
  int64_t bytes_ = 0;
};

}  // namespace keel
