/*
 * Which string columns may become dictionaries, decided from a sample
 * before the parse (docs/CSV_DICTIONARIES.md).
 *
 * Why: the exact rule (distinct values / non-null rows <= the options'
 * dictionary_max_ratio) can only be checked after every value was seen, so
 * every string column used to be stored as per-chunk dictionary codes,
 * encoded per batch and merged, only for a column of unique strings to be
 * decoded back to utf8 at the end (10 such columns cost 17x Polars' read).
 * Here rows at a few places of the file are hashed per column, and the
 * column's number of distinct values is estimated with the bias-corrected
 * Chao1 estimator, d + f1 (f1 - 1) / (2 (f2 + 1)), where d is the distinct
 * values in the sample, f1 those seen once and f2 those seen twice. A
 * column whose estimate exceeds ratio x (estimated non-null rows) is never
 * tried as a dictionary; the others still face the exact rule. When the
 * sample covers every row, nothing is vetoed (the exact rule decides
 * alone, as before).
 *
 * Determinism: the places are row starts found from byte offsets of the
 * data (never from the chunking), so the decision does not depend on the
 * worker count or chunk size. Values are compared by their 64-bit hash
 * only (a collision merely lowers the estimate a little).
 */
#include "io/csv_internal.h"

#include "core/hash.h"

/* Sampled values per read, over all sampled columns (memory bound). */
#define SAMPLE_VALUES ((int64_t)1 << 17)
/* Rows sampled in all, at most and at least (before the memory bound). */
#define SAMPLE_ROWS_MAX 8192
#define SAMPLE_ROWS_MIN 128

/* Hash counts of one column. cnt 0 marks an empty slot; counts stop at 3. */
typedef struct hcount {
  uint64_t *h;
  uint8_t *cnt;
  int64_t d, f1, f2, nonnull;
} hcount;

/* Counts one value of hash h in a table of `cap` (power of two) slots. */
static void hcount_add(hcount *t, int64_t cap, uint64_t h) {
  int64_t i = (int64_t)(h & (uint64_t)(cap - 1));
  for (;;) {
    if (t->cnt[i] == 0) {
      t->h[i] = h;
      t->cnt[i] = 1;
      t->d++;
      t->f1++;
      return;
    }
    if (t->h[i] == h) {
      if (t->cnt[i] == 1) {
        t->f1--;
        t->f2++;
      } else if (t->cnt[i] == 2) {
        t->f2--;
      }
      if (t->cnt[i] < 3) t->cnt[i]++;
      return;
    }
    i = (i + 1) & (cap - 1);
  }
}

/* Bias-corrected Chao1 estimate of the distinct values of the population. */
static double chao1(const hcount *t) {
  return (double)t->d + (double)t->f1 * (double)(t->f1 - 1) / (2.0 * (double)(t->f2 + 1));
}

/* Samples up to a per-spot row budget from each [spot[i], spot_end[i]) and
 * sets veto[c] (for the columns with ctx->cols[c].dict) when the column's
 * estimated distinct count exceeds ratio x its estimated non-null rows in
 * data_bytes of data. veto[] is cleared first. */
gf_status gfi_csv_dict_veto(const gfi_csv_ctx *ctx, const char *const *spot,
                            const char *const *spot_end, int nspots, int64_t data_bytes,
                            double ratio, bool *veto, const gf_allocator *a, gf_error *err) {
  const int ncols = ctx->ncols;
  int nel = 0;
  for (int c = 0; c < ncols; c++) {
    veto[c] = false;
    nel += ctx->cols[c].dict && !ctx->cols[c].forced;
  }
  if (nel == 0 || nspots < 1 || data_bytes <= 0) return GF_OK;
  int64_t rows = SAMPLE_VALUES / nel;
  if (rows > SAMPLE_ROWS_MAX) rows = SAMPLE_ROWS_MAX;
  if (rows < SAMPLE_ROWS_MIN) rows = SAMPLE_ROWS_MIN;
  const int64_t per_spot = (rows + nspots - 1) / nspots;
  int64_t cap = 16;
  while (cap < 2 * per_spot * nspots) cap *= 2;

  size_t fb = sizeof(gfi_csv_field) * (size_t)(ctx->nfields + 1);
  size_t tb = sizeof(hcount) * (size_t)ncols;
  size_t hb = sizeof(uint64_t) * (size_t)cap * (size_t)nel;
  size_t cb = (size_t)cap * (size_t)nel;
  gfi_csv_field *f = gfi_malloc(a, fb);
  hcount *t = gfi_calloc(a, tb);
  uint64_t *hs = gfi_malloc(a, hb);
  uint8_t *cs = gfi_calloc(a, cb);
  if (!f || !t || !hs || !cs) {
    gfi_mfree(a, f, fb);
    gfi_mfree(a, t, tb);
    gfi_mfree(a, hs, hb);
    gfi_mfree(a, cs, cb);
    return GF_OOM(err, "the CSV dictionary sample");
  }
  for (int c = 0, k = 0; c < ncols; c++) {
    if (!ctx->cols[c].dict || ctx->cols[c].forced) continue;
    t[c].h = hs + (size_t)k * (size_t)cap;
    t[c].cnt = cs + (size_t)k * (size_t)cap;
    k++;
  }
  gfi_csv_tokenizer tok;
  gfi_csv_tokenizer_init(&tok, &ctx->d, a);
  gf_status st = GF_OK;
  bool complete = true; /* every spot read to its end: all rows seen */
  int64_t srows = 0, vrows = 0, sbytes = 0;
  for (int s = 0; s < nspots && st == GF_OK; s++) {
    const char *p = spot[s], *end = spot_end[s];
    int64_t n = 0;
    while (p < end) {
      if (n == per_spot) {
        complete = false;
        break;
      }
      gfi_csv_row row;
      gf_status ts = gfi_csv_next_row(&tok, p, end, f, ctx->nfields + 1, &row);
      if (ts == GF_ENOMEM) {
        st = GF_OOM(err, "the CSV dictionary sample");
        break;
      }
      if (ts != GF_OK) { /* unterminated quote: the parser reports it */
        complete = false;
        break;
      }
      const char *row_start = p;
      p = row.next;
      if (row.kind == GFI_CSV_COMMENT || (row.kind == GFI_CSV_BLANK && ctx->nfields > 1))
        continue;
      n++;
      srows++;
      sbytes += row.next - row_start;
      if (row.nfields != ctx->nfields) continue;
      vrows++;
      for (int c = 0; c < ncols; c++) {
        if (!t[c].cnt) continue;
        const gfi_csv_field *x = &f[ctx->cols[c].field];
        if (!x->quoted && gfi_csv_is_null(&ctx->nulls, x->p, x->len)) continue;
        t[c].nonnull++;
        hcount_add(&t[c], cap, gfi_hash_bytes(x->p, (size_t)x->len));
      }
    }
  }
  gfi_csv_tokenizer_reset(&tok);
  if (st == GF_OK && !complete && vrows > 0 && sbytes > 0) {
    const double est_rows = (double)data_bytes * (double)srows / (double)sbytes;
    for (int c = 0; c < ncols; c++) {
      if (!t[c].cnt || t[c].nonnull == 0) continue;
      double est_nonnull = est_rows * (double)t[c].nonnull / (double)vrows;
      veto[c] = chao1(&t[c]) > ratio * est_nonnull;
    }
  }
  gfi_mfree(a, f, fb);
  gfi_mfree(a, t, tb);
  gfi_mfree(a, hs, hb);
  gfi_mfree(a, cs, cb);
  return st;
}
