// Key names and key choice for `keel bench db`: pure, seeded, no I/O.
//
// Key i (0 <= i < keys) is "bench/" followed by a zero-padded decimal number, padded so the key
// is `key_bytes` long (16 by default: "bench/" + 10 digits). The number is a fixed permutation of
// i (multiplication by a constant coprime to the number space), so consecutive indices land far
// apart in key order: a load in index order writes all over the key space, as YCSB's hashed
// insert order does, instead of appending (the best case for both a B+tree and an LSM tree).
//
// KeyChooser picks indices uniformly or from a Zipfian distribution (Gray et al., "Quickly
// generating billion-record synthetic databases", as in YCSB's ZipfianGenerator; theta 0.99).
// Zipfian rank r is index r, so the hot keys are spread over the key space, not adjacent.
#pragma once

#include <cstdint>
#include <string>

#include "protocol/types.h"
#include "runtime/random.h"

namespace keel::bench {

constexpr size_t bench_key_bytes_min = 16;  // "bench/" + 10 digits: room for every index
constexpr uint64_t bench_keys_max = 100000000;
constexpr double zipfian_theta_default = 0.99;

class KeyNames {
 public:
  explicit KeyNames(size_t key_bytes);
  Key key(uint64_t index) const;

 private:
  size_t digits_;
  uint64_t space_;       // 10^min(digits, 18): the numbers keys are drawn from
  uint64_t multiplier_;  // coprime to space_, so index -> number is a bijection on [0, space_)
};

// The Zipfian distribution over [0, items): rank 0 is the most popular.
class ZipfianGenerator {
 public:
  ZipfianGenerator(uint64_t items, double theta);
  uint64_t next(DeterministicRandom& random) const;

 private:
  uint64_t items_;
  double theta_;
  double alpha_;
  double zeta_items_;
  double eta_;
};

class KeyChooser {
 public:
  // `distribution` is "uniform" or "zipfian".
  KeyChooser(uint64_t keys, const std::string& distribution);
  uint64_t next_index(DeterministicRandom& random) const;

 private:
  uint64_t keys_;
  bool zipfian_;
  ZipfianGenerator zipfian_generator_;
};

}  // namespace keel::bench
