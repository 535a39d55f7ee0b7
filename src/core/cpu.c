/* CPU feature detection for run-time SIMD dispatch. Detected once; the
 * GF_CPU_MASK environment variable (hex) can clear bits so that tests reach
 * the fallback kernels on any machine. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_internal.h"

static unsigned detected;
static char names[128];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void add_name(const char *n) {
  if (names[0]) strncat(names, ",", sizeof names - strlen(names) - 1);
  strncat(names, n, sizeof names - strlen(names) - 1);
}

static void detect(void) {
  unsigned f = 0;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("sse4.2")) f |= GF_CPU_SSE42;
  if (__builtin_cpu_supports("avx")) f |= GF_CPU_AVX;
  if (__builtin_cpu_supports("avx2")) f |= GF_CPU_AVX2;
  if (__builtin_cpu_supports("bmi2")) f |= GF_CPU_BMI2;
  if (__builtin_cpu_supports("popcnt")) f |= GF_CPU_POPCNT;
  if (__builtin_cpu_supports("pclmul")) f |= GF_CPU_PCLMUL;
  if (__builtin_cpu_supports("avx512f")) f |= GF_CPU_AVX512F;
  if (__builtin_cpu_supports("avx512bw")) f |= GF_CPU_AVX512BW;
  if (__builtin_cpu_supports("avx512vl")) f |= GF_CPU_AVX512VL;
#elif defined(__aarch64__)
  f |= GF_CPU_NEON;
#endif
  const char *mask = getenv("GF_CPU_MASK");
  if (mask && *mask) f &= (unsigned)strtoul(mask, NULL, 16);
  detected = f;
  static const struct { unsigned bit; const char *name; } table[] = {
      {GF_CPU_SSE42, "sse4.2"},     {GF_CPU_AVX, "avx"},           {GF_CPU_AVX2, "avx2"},
      {GF_CPU_BMI2, "bmi2"},        {GF_CPU_POPCNT, "popcnt"},     {GF_CPU_PCLMUL, "pclmul"},
      {GF_CPU_AVX512F, "avx512f"},  {GF_CPU_AVX512BW, "avx512bw"}, {GF_CPU_AVX512VL, "avx512vl"},
      {GF_CPU_NEON, "neon"}};
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    if (f & table[i].bit) add_name(table[i].name);
  if (!names[0]) strcpy(names, "none");
}

unsigned gf_cpu_features(void) {
  pthread_once(&once, detect);
  return detected;
}

const char *gf_cpu_features_string(void) {
  pthread_once(&once, detect);
  return names;
}
