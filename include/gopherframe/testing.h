/*
 * gopherframe/testing.h - tools for testing code that uses GopherFrame, not
 * for production use. NOT included by <gopherframe.h>: include it
 * explicitly, after <gopherframe.h>, in test programs only.
 *
 * The failing allocator lets a test make the Nth allocation of a call fail
 * and then prove that the call reported GF_ENOMEM and released everything
 * it had taken (the library's own tests and fuzz targets sweep every N).
 */
#ifndef GOPHERFRAME_TESTING_H
#define GOPHERFRAME_TESTING_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Test allocator: counts allocations and fails the Nth one (1-based) and,
 * when `persistent`, every one after it. `fail_at` 0 never fails. It also
 * counts outstanding blocks and bytes so tests can prove nothing leaked.
 * Thread-safe.
 */
typedef struct gf_failing_allocator gf_failing_allocator;

GF_API gf_status gf_failing_allocator_new(const gf_allocator *parent,
                                          gf_failing_allocator **out,
                                          gf_error *err);
GF_API void gf_failing_allocator_free(gf_failing_allocator *f);
GF_API const gf_allocator *gf_failing_allocator_get(gf_failing_allocator *f);
/** Re-arms: counter to 0, fail the `fail_at`th allocation (0 = never). */
GF_API void gf_failing_allocator_arm(gf_failing_allocator *f, int64_t fail_at,
                                     bool persistent);
/** Allocation attempts since the last arm (including the failed ones). */
GF_API int64_t gf_failing_allocator_attempts(const gf_failing_allocator *f);
/** Allocations refused since the last arm. */
GF_API int64_t gf_failing_allocator_failures(const gf_failing_allocator *f);
/** Blocks currently allocated and not freed. */
GF_API int64_t gf_failing_allocator_live_blocks(const gf_failing_allocator *f);
/** Bytes currently allocated and not freed. */
GF_API int64_t gf_failing_allocator_live_bytes(const gf_failing_allocator *f);

#ifdef __cplusplus
}
#endif

#endif /* GOPHERFRAME_TESTING_H */
