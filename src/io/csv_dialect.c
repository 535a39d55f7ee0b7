/* CSV dialect detection: the delimiter (by consistency of field counts over
 * a sample, as Python's csv.Sniffer and DuckDB's sniffer do) and whether the
 * first row is a header. */
#include <string.h>

#include "io/csv_internal.h"

/* Field counts of up to `max_rows` rows of the sample with delimiter `d`;
 * returns how many rows were read completely. */
static int sample_counts(const char *p, const char *end,
                         const gfi_csv_dialect *d, const gf_allocator *a,
                         int *counts, int max_rows) {
  gfi_csv_tokenizer t;
  gfi_csv_tokenizer_init(&t, d, a);
  int n = 0;
  while (p < end && n < max_rows) {
    gfi_csv_row r;
    if (gfi_csv_next_row(&t, p, end, NULL, 0, &r) != GF_OK) break;
    /* A row cut by the end of the sample is not counted. */
    if (r.next == end && r.newlines == 0 && r.kind == GFI_CSV_ROW) break;
    if (r.kind == GFI_CSV_ROW) counts[n++] = r.nfields;
    p = r.next;
  }
  gfi_csv_tokenizer_reset(&t);
  return n;
}

/* Delimiter with the most rows sharing one field count > 1 (see
 * csv_internal.h); earlier candidates win ties. */
char gfi_csv_detect_delimiter(const char *p, const char *end,
                              const gfi_csv_dialect *d, const gf_allocator *a) {
  static const char cands[4] = {',', ';', '\t', '|'};
  enum { MAXR = 64 };
  int counts[MAXR];
  char best = ',';
  int best_agree = 0, best_fields = 1;
  for (int c = 0; c < 4; c++) {
    gfi_csv_dialect dd = *d;
    dd.delim = cands[c];
    if (dd.quoting && dd.quote == dd.delim) continue;
    int n = sample_counts(p, end, &dd, a, counts, MAXR);
    if (n == 0) {
      /* One incomplete row only: judge it alone. */
      gfi_csv_tokenizer t;
      gfi_csv_tokenizer_init(&t, &dd, a);
      gfi_csv_row r;
      if (p < end && gfi_csv_next_row(&t, p, end, NULL, 0, &r) == GF_OK &&
          r.kind == GFI_CSV_ROW)
        counts[n++] = r.nfields;
      gfi_csv_tokenizer_reset(&t);
    }
    /* The mode of the counts and how many rows agree with it. */
    int mode = 1, agree = 0;
    for (int i = 0; i < n; i++) {
      int k = 0;
      for (int j = 0; j < n; j++) k += counts[j] == counts[i];
      if (k > agree || (k == agree && counts[i] > mode)) {
        agree = k;
        mode = counts[i];
      }
    }
    if (mode <= 1) continue;
    if (agree > best_agree || (agree == best_agree && mode > best_fields)) {
      best = cands[c];
      best_agree = agree;
      best_fields = mode;
    }
  }
  return best;
}

/* Header heuristic (see csv_internal.h). */
bool gfi_csv_looks_like_header(const gfi_csv_field *f, int n,
                               const gfi_csv_nulls *nl) {
  int named = 0;
  for (int i = 0; i < n; i++) {
    /* An empty field is an unnamed column (a,,b or a trailing delimiter
     * a,b,), not evidence of data; it is named column_<i> later. */
    if (f[i].len == 0) continue;
    if (gfi_csv_is_null(nl, f[i].p, f[i].len)) return false;
    bool big = false;
    if (gfi_csv_classify(f[i].p, f[i].len, &big) != GFI_CSV_STR) return false;
    named++;
  }
  return named > 0;
}
