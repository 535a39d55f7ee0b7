/*
 * Per-worker scratch arenas (arena.c), internal. Not installed.
 *
 * Operators ask for their large per-call scratch (hash words, radix
 * partition orders, group ids, gather indexes) with gfi_scratch_alloc
 * instead of gfi_malloc. When the call uses the default allocator the
 * block comes from an arena that lives with the worker pool: freed scratch
 * stays mapped (already faulted in) and the next call of the same size
 * reuses it, instead of the kernel zeroing fresh pages every call.
 *
 * Rules (docs/ARENAS.md):
 * - Only calls whose allocator is the default (directly, or under the
 *   call's memory-limit tracker) use arenas; any other allocator gets every
 *   byte through gfi_malloc, exactly as before.
 * - A block taken from an arena counts against the current call's memory
 *   limit like a fresh allocation (the call is charged the block's
 *   capacity); the arenas' idle bytes count too, and when a limit would be
 *   crossed the arenas first give their idle blocks back to the system.
 * - Idle bytes are capped (GF_ARENA_MAX_BYTES, default min(1 GiB, 1/8 of
 *   RAM)); blocks that do not fit are released at once.
 * - gf_pool_trim releases all idle blocks; they are also released when the
 *   library is unloaded or the process exits.
 * Thread-safe: each arena has its own lock; pool thread k uses arena k,
 * every other thread arena 0.
 */
#ifndef GF_EXEC_ARENA_H
#define GF_EXEC_ARENA_H

#include "core/core_internal.h"

/* Requests below this many bytes never use an arena (plain gfi_malloc). */
#define GFI_ARENA_MIN_BYTES ((size_t)64 << 10)

/* `size` bytes (64-byte aligned) of scratch for a call whose allocator is
 * `a` (NULL = default); NULL when out of memory or over the call's limit.
 * Contents are undefined. Free with gfi_scratch_free(a, p, size): same `a`,
 * same `size`. */
void *gfi_scratch_alloc(const gf_allocator *a, size_t size);
/* As gfi_scratch_alloc, zero-filled. */
void *gfi_scratch_calloc(const gf_allocator *a, size_t size);
/* Gives scratch back (to an arena or to `a`); p may be NULL. */
void gfi_scratch_free(const gf_allocator *a, void *p, size_t size);

/* --- the arenas themselves (for call_alloc.c, pool.c and tests) -------- */

/* Capacity of the block that serves a request of `size` bytes (>= size;
 * sizes are rounded to 8 classes per power of two so that calls of
 * slightly different sizes share blocks). */
size_t gfi_arena_class(size_t size);
/* An idle block of exactly `cap` bytes from the calling thread's arena (or
 * any other arena), or NULL when none is cached. */
void *gfi_arena_take(size_t cap);
/* A fresh block of `cap` bytes from the default allocator; on failure the
 * arenas are trimmed and it is tried once more. */
void *gfi_arena_fresh(size_t cap);
/* Caches a block of `cap` bytes in the calling thread's arena, or releases
 * it when the cap would be crossed. */
void gfi_arena_give(void *p, size_t cap);
/* Idle bytes held by all arenas now. */
int64_t gfi_arena_idle_bytes(void);
/* Releases every idle block; returns the bytes released. */
int64_t gfi_arena_trim(void);
/* Binds the calling (pool) thread to arena `slot` (taken modulo the arena
 * count; 0 is the arena of non-pool threads). */
void gfi_arena_bind(int slot);
/* Test hook: the idle cap in bytes (< 0 = back to the default). */
void gfi_arena_test_set_cap(int64_t cap);
/* Test hook: the nth fresh arena block from now fails (0 = off). */
void gfi_arena_test_fail_fresh(int64_t nth);
/* Statistics since start (tests and benchmarks): blocks served from an
 * arena and blocks allocated fresh. */
void gfi_arena_counts(int64_t *reused, int64_t *fresh);

/* --- the call's side (call_alloc.c) ------------------------------------ */

typedef struct gfi_call_alloc gfi_call_alloc;
/* The call shell behind `a`, or NULL when `a` is not one. */
gfi_call_alloc *gfi_call_alloc_of(const gf_allocator *a);
/* True when the shell forwards to the default allocator (arenas may serve
 * it). */
bool gfi_call_alloc_over_default(const gfi_call_alloc *c);
/* Charges `bytes` of arena memory to the call as if allocated through it
 * (limit, peak, refusals); false (and counted as a refusal) when the limit
 * would be crossed even after the arenas gave back their idle blocks. */
bool gfi_call_alloc_charge(gfi_call_alloc *c, int64_t bytes);
/* Gives a charge back. */
void gfi_call_alloc_uncharge(gfi_call_alloc *c, int64_t bytes);

#endif /* GF_EXEC_ARENA_H */
