/*
 * gopherframe/core.h - status codes, error messages, allocators, buffers,
 * CPU features. Part of <gopherframe.h>; include that instead.
 */
#ifndef GOPHERFRAME_CORE_H
#define GOPHERFRAME_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(GF_STATIC_DEFINE)
#define GF_API
#elif defined(__GNUC__)
#define GF_API __attribute__((visibility("default")))
#else
#define GF_API
#endif

#define GF_VERSION_MAJOR 0
#define GF_VERSION_MINOR 1
#define GF_VERSION_PATCH 0
#define GF_VERSION_STRING "0.1.0"

/** Version of the library actually linked, "MAJOR.MINOR.PATCH". */
GF_API const char *gf_version(void);

/* ------------------------------------------------------------------ */
/* Status and errors                                                   */
/* ------------------------------------------------------------------ */

/** Result of every fallible call. 0 is success; the rest mirror errno. */
typedef enum gf_status {
  GF_OK = 0,
  GF_EINVAL = 1,     /**< invalid argument or malformed input */
  GF_ENOMEM = 2,     /**< allocation failed or memory limit reached */
  GF_EIO = 3,        /**< operating-system I/O error */
  GF_ECANCELED = 4,  /**< cancelled through a gf_cancel token */
  GF_ETIMEDOUT = 5,  /**< the call's deadline passed */
  GF_ENOTSUP = 6,    /**< valid but unsupported (type, feature) */
  GF_ETYPE = 7,      /**< type mismatch */
  GF_EPARSE = 8,     /**< text could not be parsed */
  GF_ERANGE = 9,     /**< value out of range / overflow */
  GF_EINTERNAL = 10  /**< a bug in GopherFrame: please report it */
} gf_status;

/** Short constant name of a status ("GF_ENOMEM"); never NULL. */
GF_API const char *gf_status_name(gf_status s);
/** Human description of a status ("out of memory"); never NULL. */
GF_API const char *gf_status_string(gf_status s);

#define GF_ERROR_MESSAGE_SIZE 1024

/**
 * Caller-owned error detail. Every fallible function takes an optional last
 * argument `gf_error *err` (NULL allowed). On failure it receives the status
 * and a readable message saying what went wrong and where. On success it is
 * left untouched. Not shared between threads.
 */
typedef struct gf_error {
  gf_status code;
  char message[GF_ERROR_MESSAGE_SIZE];
} gf_error;

/** Resets `err` to GF_OK with an empty message. NULL allowed. */
GF_API void gf_error_clear(gf_error *err);
/** Sets `err` (if not NULL) to `code` and a printf-formatted message; returns `code`. */
GF_API gf_status gf_error_set(gf_error *err, gf_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* ------------------------------------------------------------------ */
/* Allocators                                                          */
/* ------------------------------------------------------------------ */

/**
 * Memory interface. All memory a call allocates goes through one of these.
 * `allocate` returns `size` bytes aligned to `alignment` (a power of two,
 * at most 4096), or NULL. `deallocate` receives the same size and alignment.
 * `reallocate` may be NULL (then allocate+copy+deallocate is used).
 * An allocator must outlive every buffer allocated from it and must be safe
 * to call from several threads at once.
 */
typedef struct gf_allocator {
  void *(*allocate)(void *ctx, size_t size, size_t alignment);
  void *(*reallocate)(void *ctx, void *ptr, size_t old_size, size_t new_size,
                      size_t alignment);
  void (*deallocate)(void *ctx, void *ptr, size_t size, size_t alignment);
  void *ctx;
} gf_allocator;

/** The process-wide default allocator (aligned malloc). Never NULL. */
GF_API const gf_allocator *gf_default_allocator(void);

/** Allocates through `a` (NULL = default). Returns NULL on failure. */
GF_API void *gf_alloc(const gf_allocator *a, size_t size, size_t alignment);
/** Resizes a block allocated through `a`; on failure the old block stays valid. */
GF_API void *gf_realloc(const gf_allocator *a, void *ptr, size_t old_size,
                        size_t new_size, size_t alignment);
/** Frees a block allocated through `a`. NULL ptr allowed. */
GF_API void gf_free(const gf_allocator *a, void *ptr, size_t size,
                    size_t alignment);

/**
 * Frees a block that a public function hands to its caller "to be freed
 * with gf_mem_free" (gf_frame_format, gf_expr_to_string, gf_plan_chunks,
 * gf_write_ipc_memory). The block was allocated through the allocator the
 * call was given (so it counted against its limit); that allocator must
 * still be alive. NULL allowed. Never pass it memory from malloc.
 */
GF_API void gf_mem_free(void *p);

/**
 * Tracking allocator: forwards to a parent allocator and counts current and
 * peak bytes; with a non-zero `limit`, an allocation that would take the
 * current total over it fails (the caller reports GF_ENOMEM). A reallocation
 * is charged old + new size while it runs (the block may be moved, and both
 * are live during the copy), so it is refused when current + new > limit
 * even if the growth alone would fit; the old block then stays valid.
 * Thread-safe.
 */
typedef struct gf_tracking_allocator gf_tracking_allocator;

/** Creates a tracking allocator over `parent` (NULL = default). `limit` 0 = none. */
GF_API gf_status gf_tracking_allocator_new(const gf_allocator *parent,
                                           int64_t limit,
                                           gf_tracking_allocator **out,
                                           gf_error *err);
/** Frees the tracker (not the memory it handed out). NULL allowed. */
GF_API void gf_tracking_allocator_free(gf_tracking_allocator *t);
/** The allocator interface of the tracker; valid until it is freed. */
GF_API const gf_allocator *gf_tracking_allocator_get(gf_tracking_allocator *t);
GF_API int64_t gf_tracking_allocator_current(const gf_tracking_allocator *t);
GF_API int64_t gf_tracking_allocator_peak(const gf_tracking_allocator *t);
GF_API int64_t gf_tracking_allocator_limit(const gf_tracking_allocator *t);
/** Number of allocate/reallocate calls refused because of the limit. */
GF_API int64_t gf_tracking_allocator_refusals(const gf_tracking_allocator *t);
/** Resets the peak to the current value. */
GF_API void gf_tracking_allocator_reset_peak(gf_tracking_allocator *t);

/* ------------------------------------------------------------------ */
/* Buffers                                                             */
/* ------------------------------------------------------------------ */

/**
 * Refcounted contiguous memory. Buffers this library allocates are 64-byte
 * aligned and padded to a multiple of 64 bytes (padding zeroed). A buffer
 * holds a reference to whatever owns its memory (the allocator, a mapped
 * file, an imported Arrow array), so it may outlive the call that made it.
 * Immutable once shared: retain/release are thread-safe; reads from any
 * number of threads are safe.
 */
typedef struct gf_buffer gf_buffer;

/** Allocates a zero-filled buffer of `size` bytes through `a` (NULL = default). */
GF_API gf_status gf_buffer_new(const gf_allocator *a, size_t size,
                               gf_buffer **out, gf_error *err);
/**
 * Wraps foreign memory without copying. `release(owner)` is called once when
 * the last reference goes away (may be NULL).
 */
GF_API gf_status gf_buffer_wrap(const void *data, size_t size,
                                void (*release)(void *owner), void *owner,
                                gf_buffer **out, gf_error *err);
GF_API gf_buffer *gf_buffer_retain(gf_buffer *b);
GF_API void gf_buffer_release(gf_buffer *b);
GF_API const void *gf_buffer_data(const gf_buffer *b);
/** Writable view; only for the creator before the buffer is shared. */
GF_API void *gf_buffer_mutable_data(gf_buffer *b);
GF_API size_t gf_buffer_size(const gf_buffer *b);

/* ------------------------------------------------------------------ */
/* CPU features (run-time SIMD dispatch)                               */
/* ------------------------------------------------------------------ */

enum {
  GF_CPU_SSE42 = 1u << 0,
  GF_CPU_AVX = 1u << 1,
  GF_CPU_AVX2 = 1u << 2,
  GF_CPU_BMI2 = 1u << 3,
  GF_CPU_POPCNT = 1u << 4,
  GF_CPU_PCLMUL = 1u << 5,
  GF_CPU_AVX512F = 1u << 6,
  GF_CPU_AVX512BW = 1u << 7,
  GF_CPU_AVX512VL = 1u << 8,
  GF_CPU_NEON = 1u << 9
};

/**
 * Bit set of GF_CPU_* features usable on this machine (detected once).
 * The environment variable GF_CPU_MASK (hex) may clear bits, to test
 * fallback kernels.
 */
GF_API unsigned gf_cpu_features(void);
/** Comma-separated names of the detected features, e.g. "sse4.2,avx2". */
GF_API const char *gf_cpu_features_string(void);

#ifdef __cplusplus
}
#endif
#endif /* GOPHERFRAME_CORE_H */
