/* Row-group pruning by column statistics (stub: keeps every row group). */
#include "io/pq_read_internal.h"

gf_status gfi_pq_prune(const pq_column *cols, int ncols, const gfi_pq_file_meta *meta,
                       const gf_expr *pred, bool *keep, gf_error *err);

gf_status gfi_pq_prune(const pq_column *cols, int ncols, const gfi_pq_file_meta *meta,
                       const gf_expr *pred, bool *keep, gf_error *err) {
  (void)cols; (void)ncols; (void)meta; (void)pred; (void)keep; (void)err;
  return GF_OK;
}
