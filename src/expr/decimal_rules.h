/*
 * Decimal type rules used by the binder (not installed). The rules are
 * written out in docs/DESIGN.md, "Decimals".
 */
#ifndef GF_EXPR_DECIMAL_RULES_H
#define GF_EXPR_DECIMAL_RULES_H

#include <stddef.h>

#include "gopherframe.h"

/* How a binary operation or comparison with a decimal side is computed. */
enum {
  GFI_DECOP_NONE = 0, /* refused; `why` says why */
  GFI_DECOP_DECIMAL,  /* both sides decimal128 (integers converted) */
  GFI_DECOP_FLOAT     /* a float side: both sides float64 */
};

/* Classifies operands l and r (at least one decimal; a null side takes the
 * other side's type). */
int gfi_dec_operands(gf_datatype l, gf_datatype r, char *why, size_t n);

/* The decimal type an operand is read as: decimals as they are, integer
 * types as decimal(3|5|10|19|20, 0), an integer literal as decimal(digits
 * of the literal, 0). */
gf_datatype gfi_dec_operand_type(gf_datatype t, bool is_int_literal,
                                 int64_t literal);

/* Result type of l op r (both decimal128; op ADD..MOD), Arrow's rules
 * with the precision capped at 38 (division: DuckDB/Spark-style scale
 * reduction). False (with `why`) when the scale would exceed 38. */
bool gfi_dec_arith_type(gf_op op, gf_datatype l, gf_datatype r,
                        gf_datatype *out, char *why, size_t n);

/* Result type of round(x, digits) on decimal128 `t` (DuckDB's rule):
 * digits >= scale keeps (p, s); 0 <= digits < scale gives (p, digits);
 * digits < 0 gives (p, 0). floor, ceil and round(x) are digits 0; abs
 * keeps (p, s). */
gf_datatype gfi_dec_round_type(gf_datatype t, int64_t digits);

/* The type both branches of if() (decimal128 a and b; integers given as
 * gfi_dec_operand_type makes them) are converted to, as DuckDB unifies:
 * the larger scale and the larger integer part; over 38 digits the
 * precision is 38 and the scale gives way (the integer part is kept). */
gf_datatype gfi_dec_common_type(gf_datatype a, gf_datatype b);

#endif /* GF_EXPR_DECIMAL_RULES_H */
