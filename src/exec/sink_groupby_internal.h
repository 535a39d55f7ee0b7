/*
 * Internals of the streaming group-by sink shared by its modules:
 * sink_groupby.c (the sink interface, decoding and folding runs of rows,
 * the output), sink_groupby_state.c (the string tables and the group
 * table) and sink_groupby_spill.c (the partitioned, spilled mode). See
 * sink_groupby.c for what the sink computes and why it equals the eager
 * group-by bit for bit.
 */
#ifndef GF_EXEC_SINK_GROUPBY_INTERNAL_H
#define GF_EXEC_SINK_GROUPBY_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/hash.h"
#include "data/array_internal.h"
#include "data/builder_internal.h"
#include "exec/exec_internal.h"
#include "exec/stream_internal.h"
#include "io/ipc_spill.h"
#include "ops/groupby_internal.h"
#include "ops/key_policy.h"

/* The eager path's limits (groupby.c). */
#define BLOCK_MAX_HANDLES 65536
#define BLOCK_MAX_CELLS (INT64_C(1) << 22)
#define SUBN 1024
/* Output groups per batch of a spilled group-by's result. */
#define OUTN 65536
/* Partitions of a spilled group-by (the test hook may ask for others). */
#define SPILL_PARTS 128

gf_status gfi_group_by_named(const gf_frame *f, const char *const *keys, int nkeys,
                             const gf_agg_spec *specs, int nspecs, const char *const *names,
                             const gf_groupby_options *opts, gf_frame **out, gf_error *err);

/* An interned byte string table (utf8 keys and dictionary values). */
typedef struct strtab {
  int64_t n, cap;
  int64_t *off; /* n + 1 */
  char *bytes;
  int64_t blen, bcap;
  int64_t *slots;
  int64_t nslots;
} strtab;

/* The per-group states of one aggregate, one layout per kind holding only
 * what that kind needs (the state is most of a group's bytes at high
 * cardinality): count() keeps nothing (the group's row count serves),
 * count(col) a count, min/max an order key and value, first/last a value,
 * sum/mean the block and row-order sums of one arithmetic (float or
 * integer, never both). */
typedef union sumv {
  double f;
  int64_t i;
} sumv;

/* sum, mean */
typedef struct st_sum {
  int64_t n;            /* valid values */
  int64_t blk;          /* block of the open partial, -1 none */
  int64_t pn;           /* partial: values */
  int64_t cn;           /* values in the combined sum */
  sumv p, c, r;         /* partial, combined, row order (float or int) */
  bool ovf_row, ovf_blk;
} st_sum;

/* min, max */
typedef struct st_ext {
  int64_t key, val;     /* order key; value bits */
  bool has;             /* a value seen */
} st_ext;

/* first, last */
typedef struct st_pick {
  int64_t val;
  bool has;
} st_pick;

typedef struct kcol {
  int col;
  int kind;   /* 0 fixed width, 1 utf8, 2 dictionary */
  strtab st;  /* 1, 2: the values met */
  gf_array *dict; /* 2: the frame-wide dictionary for the output: set by
                     the driver (dict_fixed), else the last batch's */
  bool dict_fixed;
  int ri;         /* column of its raw values in gbsink.graw, -1: the raw
                     value is the equality value (integers, utf8 ids) */
  bool mixed;     /* 2: batches came with different dictionaries */
  gf_array *mdict; /* 2, mixed: the dictionary of the values met, built
                      once for the output */
} kcol;

typedef struct acol {
  gf_agg_kind kind;
  int col;     /* -1: count(*) */
  gf_datatype type;
  bool isfloat, isu64;
  void *s;     /* per group: st_* of the kind, NULL for count() */
  size_t ssz;  /* bytes of one group's state (0: none) */
  int so;      /* first column of its packed state (spilled group-by) */
} acol;

/* Group q's state of aggregate c, by kind. */
static inline st_sum *sum_at(const acol *c, int64_t q) { return (st_sum *)c->s + q; }
static inline st_ext *ext_at(const acol *c, int64_t q) { return (st_ext *)c->s + q; }
static inline st_pick *pick_at(const acol *c, int64_t q) { return (st_pick *)c->s + q; }
static inline int64_t *cnt_at(const acol *c, int64_t q) { return (int64_t *)c->s + q; }


typedef struct gbspill gbspill;

typedef struct gbsink {
  const gf_allocator *a;
  const gf_parallel_options *po;
  gf_schema *schema;
  int nkeys;
  char **keys;
  kcol *kc;
  int naggs;
  acol *ac;
  const gf_agg_list *list;
  const gf_agg_spec *specs;
  const char *const *inames;
  bool sort_keys;
  /* groups */
  int64_t ng, gcap;
  uint64_t *gkey;   /* ng x nkeys equality values */
  uint64_t *gnull;  /* ng null masks */
  int64_t *graw;    /* ng x nraw: first row's raw value of the keys whose
                       raw value differs from the equality value (floats;
                       dictionary codes); kcol.ri */
  int nraw;
  int64_t *grows;   /* rows per group */
  int64_t *gfirst;  /* absolute position of the group's first row */
  int64_t *slots;
  int64_t nslots;
  int64_t rows;     /* rows pushed */
  /* A run of rows decoded (the record columns, RC_* below) and its group
   * ids; also what a spilled run holds. */
  int64_t **rc;
  int nrc;
  int64_t *gid;
  gbspill *sp;      /* NULL: in memory */
} gbsink;

/* Record columns of a decoded run of rows: position, key null mask, the
 * keys' equality values and raw values, per aggregate its value (float
 * bits, integer, or min/max order key) and raw bits, and the aggregates'
 * validity bits. */
#define RC_POS 0
#define RC_NULLS 1
#define RC_KEY(g, k) (2 + (k))
#define RC_RAW(g, k) (2 + (g)->nkeys + (k))
#define RC_AV(g, i) (2 + 2 * (g)->nkeys + 2 * (i))
#define RC_AR(g, i) (3 + 2 * (g)->nkeys + 2 * (i))
#define RC_VM(g) (2 + 2 * (g)->nkeys + 2 * (g)->naggs)

/* Bytes of the raw key array at capacity cap (a token 8 when no key keeps
 * raw values apart: most group-bys). */
static inline size_t gfi_gbs_raw_bytes(const gbsink *g, int64_t cap) {
  return g->nraw ? 8 * (size_t)cap * (size_t)g->nraw : 8;
}

/* ---- sink_groupby_state.c ------------------------------------------------- */

/* Frees a string table's storage (the table is left empty). */
void gfi_gbs_strtab_free(const gf_allocator *a, strtab *t);
/* The id of byte string p[0, n) in table t, interned when new. */
gf_status gfi_gbs_strtab_id(const gf_allocator *a, strtab *t, const char *p, int64_t n, int64_t *id,
                            gf_error *err);
/* The hash of a key tuple (equality values k[0, nk), null mask). */
uint64_t gfi_gbs_key_hash(const uint64_t *k, uint64_t nulls, int nk);
/* Grows the per-group arrays (not the slot table) to hold `need` groups. */
gf_status gfi_gbs_grow_arrays(gbsink *g, int64_t need, gf_error *err);
/* Grows the per-group arrays and the slot table to hold `need` groups. */
gf_status gfi_gbs_grow_groups(gbsink *g, int64_t need, gf_error *err);
/* The group of a key tuple, created (raw values, first position) when new. */
gf_status gfi_gbs_group_of(gbsink *g, const uint64_t *k, uint64_t nulls, const int64_t *raw,
                           int64_t pos, int64_t *gid, gf_error *err);
/* Bytes of one group's state of an aggregate of this kind. */
size_t gfi_gbs_state_size(gf_agg_kind kind);

/* ---- sink_groupby_spill.c ------------------------------------------------- */

/* Frees the spilled mode's state (g->sp; files removed). */
void gfi_gbs_spill_free(gbsink *g);
/* Switches to partitioned mode (the groups so far written out). */
gf_status gfi_gbs_spill_start(gbsink *g, gf_error *err);
/* Appends n decoded rows (g->rc) to their partitions' runs. */
gf_status gfi_gbs_spill_rows(gbsink *g, int64_t n, gf_error *err);
/* Room for n more groups in memory, or *spill = true. */
gf_status gfi_gbs_room_for(gbsink *g, int64_t n, bool *spill, gf_error *err);
/* Aggregates every partition (once). */
gf_status gfi_gbs_spill_aggregate(gbsink *g, gf_error *err);
/* Merges the aggregated partitions into `next`, batch by batch. */
gf_status gfi_gbs_spill_emit(gbsink *g, gfi_sink *next, gf_error *err);

/* ---- sink_groupby.c ------------------------------------------------------- */

/* Folds n decoded rows (record columns rc) into the groups. */
gf_status gfi_gbs_fold_run(gbsink *g, int64_t *const *rc, int64_t n, gf_error *err);
/* The eager group-by over an empty frame of the input schema. */
gf_status gfi_gbs_empty_agg(gbsink *g, gf_frame **out, gf_error *err);
/* The aggregated frame (schema os) of groups [0, G). */
gf_status gfi_gbs_build_agg(gbsink *g, const gf_schema *os, int64_t G, bool blockpath, gf_frame **out,
                            gf_error *err);
/* Whether the eager operator would take its block path for G groups. */
bool gfi_gbs_block_path(const gbsink *g, int64_t G);

#endif
