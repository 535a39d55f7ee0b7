/*
 * Internal interface shared by the operators in src/ops (not installed).
 */
#ifndef GF_OPS_INTERNAL_H
#define GF_OPS_INTERNAL_H

#include "expr/expr_internal.h"

/* Operators coalesce outputs into batches of at least this many rows where
 * the input allows (docs/DESIGN.md, "Data model"). */
#define GFI_COALESCE_ROWS 65536

/* Checks that `b` is a predicate (bool, or the null literal); else
 * GF_ETYPE naming the expression and its type. */
gf_status gfi_check_predicate(const gf_bound_expr *b, gf_error *err);

/* True when an aggregate of `l` reads input column `name` (the keys are
 * not part of the list). Lets a pipeline drop the columns a group-by never
 * reads before they are gathered. */
bool gfi_agg_list_reads(const gf_agg_list *l, const char *name);

/* Item i of `l` as written (before its aggregates became internal
 * columns; borrowed), or NULL. Lets a HAVING match `sum(x)` to the item
 * `sum(x) as s`. */
const gf_expr *gfi_agg_list_item(const gf_agg_list *l, int i);

#endif /* GF_OPS_INTERNAL_H */
