/* Parallel options: defaults, loading size-versioned structs, worker
 * counts (affinity mask, cgroup quota, GF_NUM_THREADS). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/exec_internal.h"

/* Fills the defaults: all usable CPUs, AUTO, 65536 rows before going
 * parallel, no allocator override, no limits, no stats. */
void gf_parallel_options_init(gf_parallel_options *o) {
  if (!o) return;
  memset(o, 0, sizeof *o);
  o->size = sizeof *o;
  o->num_workers = 0;
  o->chunk_rows = 0;
  o->min_parallel_rows = GF_DEFAULT_MIN_PARALLEL_ROWS;
  o->strategy = GF_STRATEGY_AUTO;
}

/* Parses a positive decimal integer (GF_NUM_THREADS); 0 when invalid. */
static int parse_positive(const char *s) {
  if (!s || !*s) return 0;
  char *end = NULL;
  long v = strtol(s, &end, 10);
  while (end && (*end == ' ' || *end == '\n')) end++;
  if (!end || *end || v <= 0) return 0;
  return v > GF_MAX_STATS_WORKERS ? GF_MAX_STATS_WORKERS : (int)v;
}

/* Usable CPUs: GF_NUM_THREADS if set to a positive integer, else the
 * affinity mask capped by the cgroup CPU quota; at least 1, at most
 * GF_MAX_STATS_WORKERS. */
int gf_default_num_workers(void) {
  int env = parse_positive(getenv("GF_NUM_THREADS"));
  if (env > 0) return env;
  int n = gfi_affinity_cpus(NULL, 0);
  int quota = gfi_cgroup_cpu_limit();
  if (quota > 0 && quota < n) n = quota;
  if (n < 1) n = 1;
  if (n > GF_MAX_STATS_WORKERS) n = GF_MAX_STATS_WORKERS;
  return n;
}

/* Workers a call with these options would use: num_workers or the
 * default, capped at GF_MAX_STATS_WORKERS; 1 inside a parallel region,
 * where nested calls run inline. */
int gf_effective_workers(const gf_parallel_options *opts) {
  if (gfi_in_parallel_region()) return 1;
  int n = 0;
  if (opts && (opts->size == 0 ||
               opts->size >= offsetof(gf_parallel_options, num_workers) + sizeof(int)))
    n = opts->num_workers;
  if (n <= 0) n = gf_default_num_workers();
  if (n > GF_MAX_STATS_WORKERS) n = GF_MAX_STATS_WORKERS;
  return n;
}

/* Names of the known flags, for the message refusing an unknown one. */
static const struct {
  unsigned bit;
  const char *name;
} known_flags[] = {{GF_PIN_THREADS, "GF_PIN_THREADS"}};

/* GF_EINVAL naming the lowest bit of `flags` outside
 * GF_PARALLEL_FLAGS_KNOWN and listing the known ones; GF_OK when none. */
static gf_status check_flags(unsigned flags, gf_error *err) {
  unsigned unknown = flags & ~(unsigned)GF_PARALLEL_FLAGS_KNOWN;
  if (!unknown) return GF_OK;
  int bit = 0;
  while (!(unknown >> bit & 1u)) bit++;
  char names[128] = "";
  size_t used = 0;
  for (size_t i = 0; i < sizeof known_flags / sizeof known_flags[0]; i++) {
    int n = snprintf(names + used, sizeof names - used, "%s%s (0x%x)", i ? ", " : "",
                     known_flags[i].name, known_flags[i].bit);
    if (n < 0 || (size_t)n >= sizeof names - used) break;
    used += (size_t)n;
  }
  return gf_error_set(err, GF_EINVAL,
                      "gf_parallel_options.flags: unknown bit %d (0x%x); known flags: %s", bit,
                      1u << bit, names);
}

/* Copies opts into out over the defaults: only the first opts->size bytes
 * are read, so a caller compiled against an older, smaller struct works;
 * size 0 (a zeroed struct) is taken as the current size. */
gf_status gfi_options_load(const gf_parallel_options *opts,
                           gf_parallel_options *out, gf_error *err) {
  gf_parallel_options_init(out);
  if (opts) {
    size_t n = opts->size;
    if (n == 0 || n > sizeof *out) n = sizeof *out;
    if (n < sizeof(size_t))
      return gf_error_set(err, GF_EINVAL, "parallel options: size %zu is too small", n);
    memcpy(out, opts, n);
    out->size = sizeof *out;
  }
  if (out->num_workers < 0)
    return gf_error_set(err, GF_EINVAL, "parallel options: num_workers %d is negative",
                        out->num_workers);
  if (out->chunk_rows < 0)
    return gf_error_set(err, GF_EINVAL, "parallel options: chunk_rows %lld is negative",
                        (long long)out->chunk_rows);
  if (out->min_parallel_rows < 0)
    return gf_error_set(err, GF_EINVAL, "parallel options: min_parallel_rows %lld is negative",
                        (long long)out->min_parallel_rows);
  if (out->memory_limit < 0)
    return gf_error_set(err, GF_EINVAL, "parallel options: memory_limit %lld is negative",
                        (long long)out->memory_limit);
  if (out->timeout_ms < 0)
    return gf_error_set(err, GF_EINVAL, "parallel options: timeout_ms %lld is negative",
                        (long long)out->timeout_ms);
  if (out->max_temp_bytes < 0)
    return gf_error_set(err, GF_EINVAL, "parallel options: max_temp_bytes %lld is negative",
                        (long long)out->max_temp_bytes);
  if ((int)out->strategy < GF_STRATEGY_AUTO || (int)out->strategy > GF_STRATEGY_MEMORY_BOUND)
    return gf_error_set(err, GF_EINVAL, "parallel options: unknown strategy %d",
                        (int)out->strategy);
  return check_flags(out->flags, err);
}

/* Loads and builds the call context. Options loaded before (nested
 * operators, phases, the runtime called by an operator) inherit the outer
 * call's deadline, token and statistics mode, so one public call keeps one
 * deadline however many calls it makes inside. */
gf_status gfi_ctx_load(gfi_ctx *ctx, const gf_parallel_options *opts,
                       gf_parallel_options *out, gf_error *err) {
  memset(ctx, 0, sizeof *ctx);
  GF_RETURN_NOT_OK(gfi_options_load(opts, &ctx->o, err));
  const gfi_ctx *outer = gfi_ctx_of(&ctx->o);
  if (outer) {
    ctx->user_cancel = outer->user_cancel;
    ctx->deadline_ns = outer->deadline_ns;
    ctx->stats_accumulate = outer->stats_accumulate;
  } else {
    ctx->user_cancel = ctx->o.cancel;
    if (ctx->o.timeout_ms > 0) {
      int64_t now = gfi_now_ns();
      if (ctx->o.timeout_ms > (INT64_MAX - now) / 1000000)
        return gf_error_set(err, GF_EINVAL, "parallel options: timeout_ms %lld is too large",
                            (long long)ctx->o.timeout_ms);
      ctx->deadline_ns = now + ctx->o.timeout_ms * 1000000;
    }
  }
  ctx->caller_alloc = outer ? outer->caller_alloc : ctx->o.allocator;
  if (outer) {
    ctx->limiter = outer->limiter;
    ctx->limit = outer->limit;
  } else if (ctx->o.memory_limit > 0) {
    /* One limit for the whole call (see gfi_ctx): the runtime's own
     * per-runtime-call tracker would see one phase at a time. */
    GF_RETURN_NOT_OK(gfi_call_alloc_new(ctx->o.allocator, ctx->o.memory_limit, &ctx->limiter, err));
    ctx->owns_limiter = true;
    ctx->limit = ctx->o.memory_limit;
    ctx->o.allocator = gfi_call_alloc_get(ctx->limiter);
    ctx->o.memory_limit = 0;
  }
  atomic_init(&ctx->token.requested, 0);
  ctx->token.call = ctx;
  ctx->o.cancel = &ctx->token;
  if (out) *out = ctx->o;
  return GF_OK;
}

gf_status gfi_ctx_end(gfi_ctx *ctx, gf_status st, gf_error *err) {
  if (!ctx->owns_limiter) return st;
  if (st == GF_ENOMEM && gfi_call_alloc_refusals(ctx->limiter) > 0 && err &&
      !strstr(err->message, "memory limit")) {
    char was[GF_ERROR_MESSAGE_SIZE];
    snprintf(was, sizeof was, "%s", err->message);
    gf_error_set(err, GF_ENOMEM,
                 "memory limit of %lld bytes (memory_limit) exceeded: %.900s; raise the "
                 "limit or process the input in smaller parts",
                 (long long)ctx->limit, was);
  }
  if (ctx->o.stats) {
    int64_t peak = gfi_call_alloc_peak(ctx->limiter);
    if (peak > ctx->o.stats->peak_memory) ctx->o.stats->peak_memory = peak;
  }
  gfi_call_alloc_release(ctx->limiter);
  ctx->limiter = NULL;
  ctx->owns_limiter = false;
  return st;
}
