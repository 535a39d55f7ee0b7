/* Test helper: GFT_SANITIZED is 1 when the test is built with ASan or TSan.
 * Heavy randomised checks use it to run fewer iterations there (the
 * sanitizer stages of .ci/run run the whole suite on 2 cores, 5-20x slower);
 * the unsanitized stage always runs them in full. */
#ifndef GF_TEST_ENV_H
#define GF_TEST_ENV_H

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define GFT_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define GFT_SANITIZED 1
#endif
#endif
#ifndef GFT_SANITIZED
#define GFT_SANITIZED 0
#endif

#include <stdbool.h>
#include <stdlib.h>

/* True in a sanitizer build, or when GF_TEST_SANITIZED is set in the
 * environment (the sanitizer stages of .ci/run set it): a compiler that
 * hides its sanitizer from the preprocessor is still scaled down. */
static inline bool gft_sanitized(void) {
  const char *v = getenv("GF_TEST_SANITIZED");
  return GFT_SANITIZED || (v && *v && *v != '0');
}

#endif /* GF_TEST_ENV_H */
