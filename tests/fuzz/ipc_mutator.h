/* Custom mutator shared by fuzz_ipc_file and fuzz_ipc_stream: overwrites a
 * row count or buffer length in the flatbuffer metadata with a hostile
 * value. RecordBatch `length`, FieldNode length/null_count and Buffer
 * offset/length are all 8-byte little-endian integers at 8-aligned
 * positions, so scanning aligned words for small plausible values finds
 * them without decoding the flatbuffer (random byte edits almost never
 * produce, say, exactly 2^62 in one of them). */
#ifndef GF_FUZZ_IPC_MUTATOR_H
#define GF_FUZZ_IPC_MUTATOR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Largest value taken for a length: the golden files hold small batches. */
#define IPC_MUT_PLAUSIBLE ((int64_t)1 << 20)

static int64_t ipc_mut_load(const uint8_t *p) {
  uint64_t v = 0;
  for (int k = 7; k >= 0; k--) v = (v << 8) | p[k];
  return (int64_t)v;
}

static void ipc_mut_store(uint8_t *p, int64_t value) {
  uint64_t v = (uint64_t)value;
  for (int k = 0; k < 8; k++) p[k] = (uint8_t)(v >> (8 * k));
}

/* splitmix64, seeded by libFuzzer's seed so a mutation is reproducible. */
static uint64_t ipc_mut_rand(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

/* The hostile replacement for `orig`, picked by `r`. */
static int64_t ipc_mut_hostile(int64_t orig, uint64_t r) {
  switch (r % 12) {
  case 0: return 0;
  case 1: return -1;
  case 2: return INT64_MAX;
  case 3: return INT64_MIN;
  case 4: return (int64_t)1 << 40;
  case 5: return ((int64_t)1 << 40) + 1;
  case 6: return (int64_t)1 << 62;
  case 7: return (int64_t)1 << 31;
  case 8: return ((int64_t)1 << 32) - 1;
  case 9: return orig + 1;
  case 10: return orig - 1;
  default: return orig * 2;
  }
}

/* Contract: one call in three, picks uniformly one 8-aligned word of
 * data[0..size) holding a value in 1..IPC_MUT_PLAUSIBLE, overwrites it with
 * a hostile value and returns size (unchanged); returns 0 when it did not
 * mutate (the caller then uses the default mutation). */
static size_t ipc_length_mutate(uint8_t *data, size_t size, unsigned seed) {
  uint64_t rng = seed;
  if (ipc_mut_rand(&rng) % 3 != 0) return 0;
  size_t chosen = SIZE_MAX, seen = 0;
  for (size_t at = 0; at + 8 <= size; at += 8) {
    int64_t v = ipc_mut_load(data + at);
    if (v < 1 || v > IPC_MUT_PLAUSIBLE) continue;
    /* Reservoir sampling: each candidate kept with probability 1/seen. */
    if (ipc_mut_rand(&rng) % ++seen == 0) chosen = at;
  }
  if (chosen == SIZE_MAX) return 0;
  int64_t orig = ipc_mut_load(data + chosen);
  ipc_mut_store(data + chosen, ipc_mut_hostile(orig, ipc_mut_rand(&rng)));
  return size;
}

/* Contract: one call in six, replaces one time zone name of the golden
 * datetime seeds (US/Eastern, US/Pacific, Europe/Paris) in data[0..size)
 * with another name of the same length, hostile ones included (paths out
 * of the tz directory, names that are not zones), so the flatbuffer stays
 * well formed and the zone loader sees the name. Returns size, or 0 when
 * it did not mutate. */
static size_t ipc_zone_mutate(uint8_t *data, size_t size, unsigned seed) {
  static const char *const by10[] = {"US/Eastern", "US/Pacific", "Asia/Tokyo", "../../etc/",
                                     "Etc/GMT+10", "Mars/Olymp", "US//Easter", "/etc/zone/"};
  static const char *const by12[] = {"Europe/Paris", "Asia/Kolkata", "America/Lima",
                                     "../../passwd", "Europe/Paris", "Europe/Par.s",
                                     "right/Europe", "posix/Europe"};
  uint64_t rng = seed ^ 0x5a5a5a5au;
  if (ipc_mut_rand(&rng) % 6 != 0) return 0;
  size_t chosen = SIZE_MAX, seen = 0, len = 0;
  for (size_t at = 0; at + 10 <= size; at++) {
    size_t n = 0;
    if (!memcmp(data + at, "US/Eastern", 10) || !memcmp(data + at, "US/Pacific", 10)) n = 10;
    else if (at + 12 <= size && !memcmp(data + at, "Europe/Paris", 12)) n = 12;
    if (n && ipc_mut_rand(&rng) % ++seen == 0) {
      chosen = at;
      len = n;
    }
  }
  if (chosen == SIZE_MAX) return 0;
  const char *with = len == 10 ? by10[ipc_mut_rand(&rng) % 8] : by12[ipc_mut_rand(&rng) % 8];
  memcpy(data + chosen, with, len);
  return size;
}

/* Only in the libFuzzer build (test_fuzz_regressions.c compiles the targets
 * with LLVMFuzzerTestOneInput defined as a macro and has no libFuzzer). */
#ifndef LLVMFuzzerTestOneInput
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned seed);

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned seed) {
  size_t n = ipc_length_mutate(data, size, seed);
  if (!n) n = ipc_zone_mutate(data, size, seed);
  return n ? n : LLVMFuzzerMutate(data, size, max_size);
}
#endif

#endif
