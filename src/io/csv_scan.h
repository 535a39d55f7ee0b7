/*
 * Structural indexing of CSV text (not installed): 64-byte blocks become
 * bitmasks of delimiter, newline and quote positions; the quoted state of
 * every byte is the prefix-XOR of the quote mask (carry-less multiply when
 * the CPU has PCLMUL, shift-xor otherwise); a row splitter then walks the
 * set bits instead of the bytes.
 *
 * The kernels are chosen at run time: AVX2, SSE4.2 or a portable 64-bit SWAR
 * fallback. GF_CSV_SIMD=off (or swar, sse42, avx2) caps the level, and
 * GF_CPU_MASK (core/cpu.c) clears CPU features, so tests reach every path
 * on one machine. Every level gives the same masks bit for bit.
 *
 * The splitter serves the quoting model of csv_internal.h without escape
 * or comment characters (the "parity" model, where a byte is inside quotes
 * exactly when an odd number of quotes precede it in the chunk). A row that
 * holds a quote is handed to the scalar tokenizer, which removes the quotes
 * into its scratch; rows without quotes are split from the bitmasks alone.
 * Input is never read past its end: the last partial block is copied into a
 * zero-padded buffer.
 */
#ifndef GF_IO_CSV_SCAN_H
#define GF_IO_CSV_SCAN_H

#include "io/csv_internal.h"

/* Kernel levels, in increasing order of width. */
enum { GFI_CSV_SIMD_SWAR = 0, GFI_CSV_SIMD_SSE42 = 1, GFI_CSV_SIMD_AVX2 = 2 };

/* Level used by the reader: the best the CPU has, capped by GF_CSV_SIMD.
 * Read once per process. */
int gfi_csv_simd_level(void);
/* True when the reader uses PCLMUL for the prefix-XOR (the CPU has it and
 * GF_CSV_SIMD is not "off"/"swar"). */
bool gfi_csv_simd_clmul(void);
/* Pure form of the choice, for tests: the level for CPU features `cpu`
 * (GF_CPU_* bits) and the value of GF_CSV_SIMD (`env`, may be NULL). */
int gfi_csv_simd_choose(unsigned cpu, const char *env, bool *clmul);
/* Tests: makes the reader use `level` and `clmul` from now on (level < 0:
 * choose again from the CPU and GF_CSV_SIMD). Not for concurrent use with
 * a read in progress. */
void gfi_csv_simd_force(int level, bool clmul);

/* Masks of one 64-byte block: bit i is set when byte i is the delimiter,
 * a newline ('\n') or the quote character. */
typedef struct gfi_csv_masks {
  uint64_t delim, nl, quote;
} gfi_csv_masks;

/* Computes the masks of the 64 bytes at p with the kernel of `level`
 * (falls back to SWAR when that level is not compiled in). */
void gfi_csv_block_masks(int level, const char *p, char delim, char quote,
                         gfi_csv_masks *m);
/* Bit i of the result is the XOR of bits 0..i of x. */
uint64_t gfi_csv_prefix_xor(uint64_t x, bool clmul);

/* Row splitter over [start, end): whole rows, quote state outside at start. */
typedef struct gfi_csv_splitter {
  gfi_csv_dialect d;
  int level;
  bool clmul;
  const char *pos;      /* start of the next row */
  const char *end;
  const char *scanned;  /* indexed up to here */
  const char *wbase;    /* base of the current window's entries */
  uint32_t *idx;        /* offsets from wbase of separators and quotes */
  size_t n, i, cap;
  uint64_t inq;         /* quote state carried into the next block */
  gfi_csv_tokenizer *tok; /* scalar tokenizer for rows holding quotes */
  const gf_allocator *alloc;
} gfi_csv_splitter;

/* Prepares a splitter over [start, end) for dialect d (no escape, no
 * comment), using tok (initialised for d) for rows with quotes. Kernel level
 * and clmul as given (tests) or from gfi_csv_simd_level() when level < 0.
 * GF_ENOMEM when the index buffer cannot be allocated. */
gf_status gfi_csv_splitter_init(gfi_csv_splitter *s, const gfi_csv_dialect *d,
                                const char *start, const char *end,
                                gfi_csv_tokenizer *tok, int level, bool clmul,
                                const gf_allocator *a);
/* Frees the index buffer. */
void gfi_csv_splitter_free(gfi_csv_splitter *s);
/* True when the dialect can be split from bitmasks. */
static inline bool gfi_csv_splitter_usable(const gfi_csv_dialect *d) {
  return !d->escape && !d->comment;
}
/* Reads the next row (s->pos < s->end) exactly as gfi_csv_next_row would:
 * same fields, kinds, `next`, `newlines`, and GF_EPARSE with row->bad on an
 * unterminated quote. Fields of rows with quotes point into tok's scratch,
 * valid until the next call. */
gf_status gfi_csv_splitter_next(gfi_csv_splitter *s, gfi_csv_field *fields,
                                int max_fields, gfi_csv_row *row);

/* Counts quote characters and newlines in [p, p+n) with the block masks
 * (same result as gfi_csv_count_bytes). */
void gfi_csv_count_masks(int level, const char *p, size_t n, char quote,
                         bool quoting, int64_t *quotes, int64_t *newlines);

#endif /* GF_IO_CSV_SCAN_H */
