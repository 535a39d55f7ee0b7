/* The gf tool's random numbers for `gf gen` (both generators): splitmix64,
 * so that a seed gives the same files on every machine and run. */
#ifndef GF_CLI_RANDOM_H
#define GF_CLI_RANDOM_H

#include <stdint.h>

/* splitmix64's output function. */
static inline uint64_t cli_mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* splitmix64 step: advances *s and returns the next value. */
static inline uint64_t cli_next64(uint64_t *s) {
  *s += 0x9E3779B97F4A7C15ull;
  return cli_mix64(*s);
}

/* Uniform in [0, n) for n < 2^32 from the top 32 bits (bias < n / 2^32). */
static inline uint64_t cli_below(uint64_t *s, uint64_t n) {
  return ((cli_next64(s) >> 32) * n) >> 32;
}

#endif /* GF_CLI_RANDOM_H */
