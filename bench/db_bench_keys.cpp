#include "bench/db_bench_keys.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>


namespace keel::bench {
namespace {

const std::string bench_key_prefix = "bench/";

uint64_t power_of_ten(size_t exponent) {
  uint64_t result = 1;
  for (size_t i = 0; i < exponent; ++i) result *= 10;
  return result;
}

// Near the golden ratio of the space, but at most 1e11 so index * multiplier < 2^64 for every
// index below bench_keys_max; odd and not a multiple of 5, so coprime to 10^k.
uint64_t permutation_multiplier(uint64_t space) {
  uint64_t multiplier = static_cast<uint64_t>(0.6180339887 * static_cast<double>(std::min<uint64_t>(space, 100000000000ULL)));
  while (multiplier % 2 == 0 || multiplier % 5 == 0) ++multiplier;
  return multiplier;
}

double zeta(uint64_t items, double theta) {
  double sum = 0;
  for (uint64_t i = 1; i <= items; ++i) sum += 1.0 / std::pow(static_cast<double>(i), theta);
  return sum;
}

}  // namespace

KeyNames::KeyNames(size_t key_bytes) {
  if (key_bytes < bench_key_bytes_min) throw std::invalid_argument("bench: keys must be at least 16 bytes");
  digits_ = key_bytes - bench_key_prefix.size();
  space_ = power_of_ten(std::min<size_t>(digits_, 18));
  multiplier_ = permutation_multiplier(space_);
}

Key KeyNames::key(uint64_t index) const {
  if (index >= bench_keys_max) throw std::out_of_range("bench: key index beyond bench_keys_max");
  uint64_t number = (index * multiplier_) % space_;
  // The number zero-padded to digits_ (below space_, so it fits), written by hand: formatting
  // it took a few percent of a load generator's CPU.
  Key key(bench_key_prefix.size() + digits_, '0');
  std::copy(bench_key_prefix.begin(), bench_key_prefix.end(), key.begin());
  for (size_t i = key.size(); number > 0; number /= 10) key[--i] = static_cast<char>('0' + number % 10);
  return key;
}

ZipfianGenerator::ZipfianGenerator(uint64_t items, double theta)
    : items_(items), theta_(theta), alpha_(1.0 / (1.0 - theta)), zeta_items_(zeta(items, theta)) {
  if (items == 0 || theta <= 0 || theta >= 1) throw std::invalid_argument("bench: zipfian needs items > 0, 0 < theta < 1");
  const double zeta_two = zeta(2, theta);
  eta_ = (1.0 - std::pow(2.0 / static_cast<double>(items), 1.0 - theta)) / (1.0 - zeta_two / zeta_items_);
}

uint64_t ZipfianGenerator::next(DeterministicRandom& random) const {
  const double u = random.random01();
  const double uz = u * zeta_items_;
  if (uz < 1.0) return 0;
  if (uz < 1.0 + std::pow(0.5, theta_)) return std::min<uint64_t>(1, items_ - 1);
  const double rank = static_cast<double>(items_) * std::pow(eta_ * u - eta_ + 1.0, alpha_);
  return std::min(items_ - 1, static_cast<uint64_t>(rank));
}

KeyChooser::KeyChooser(uint64_t keys, const std::string& distribution)
    : keys_(keys),
      zipfian_(distribution == "zipfian"),
      zipfian_generator_(zipfian_ ? keys : 1, zipfian_theta_default) {
  if (distribution != "uniform" && distribution != "zipfian") throw std::invalid_argument("bench: unknown distribution");
}

uint64_t KeyChooser::next_index(DeterministicRandom& random) const {
  if (zipfian_) return zipfian_generator_.next(random);
  return static_cast<uint64_t>(random.random_int(0, static_cast<int64_t>(keys_)));
}

}  // namespace keel::bench
