#include "runtime/random.h"

#include <cmath>
#include <random>

#include "runtime/assert.h"

namespace keel {
namespace {

thread_local DeterministicRandom* current_random = nullptr;
thread_local Buggify* current_buggify = nullptr;

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t rotate_left(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

DeterministicRandom::DeterministicRandom(uint64_t seed) {
  for (uint64_t& word : state_) word = splitmix64(seed);
}

uint64_t DeterministicRandom::next_u64() {
  const uint64_t result = rotate_left(state_[1] * 5, 7) * 9;
  const uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = rotate_left(state_[3], 45);
  return result;
}

double DeterministicRandom::random01() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

int64_t DeterministicRandom::random_int(int64_t low, int64_t high) {
  KEEL_ASSERT(high > low);
  const uint64_t range = static_cast<uint64_t>(high - low);
  return low + static_cast<int64_t>(next_u64() % range);
}

double DeterministicRandom::random_exponential(double mean) {
  return -mean * std::log(1.0 - random01());
}

std::string DeterministicRandom::random_bytes(size_t length) {
  std::string bytes(length, '\0');
  for (char& byte : bytes) byte = static_cast<char>(next_u64() & 0xff);
  return bytes;
}

DeterministicRandom& deterministic_random() {
  KEEL_ASSERT(current_random != nullptr);
  return *current_random;
}
void set_deterministic_random(DeterministicRandom* random) { current_random = random; }

uint64_t nondeterministic_unique_id() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return engine();
}

bool Buggify::check(const char* file, uint32_t line) {
  auto key = std::make_pair(std::string(file), line);
  auto it = sites_.find(key);
  if (it == sites_.end()) it = sites_.emplace(key, random_.coin(site_probability_)).first;
  return it->second && random_.coin(fire_probability_);
}

size_t Buggify::sites_enabled() const {
  size_t count = 0;
  for (const auto& [site, enabled] : sites_) count += enabled ? 1 : 0;
  return count;
}

void set_buggify(Buggify* buggify) { current_buggify = buggify; }

bool buggify(const char* file, uint32_t line) {
  return current_buggify != nullptr && current_buggify->check(file, line);
}

}  // namespace keel
