/*
 * The optimizer driver (gf_plan_optimize): runs the selected rules in a
 * fixed order, each one a whole-plan rewrite into a new plan with the same
 * answer (plan_rule_*.c). Every rewritten node is finished, i.e. checked
 * again, so an optimized plan is exactly as checked as a built one.
 */
#include "plan/plan_internal.h"

typedef gf_status (*rule_fn)(const gf_plan *p, gf_plan **out, gf_error *err);

gf_status gf_plan_optimize(const gf_plan *p, unsigned rules, gf_plan **out, gf_error *err) {
  if (!p || !out) return gf_error_set(err, GF_EINVAL, "gf_plan_optimize: NULL argument");
  static const struct {
    unsigned bit;
    rule_fn fn;
  } order[] = {
      {GF_PLAN_RULE_CONSTANT_FOLDING, gfi_rule_constant_folding},
      {GF_PLAN_RULE_PREDICATE_PUSHDOWN, gfi_rule_predicate_pushdown},
      {GF_PLAN_RULE_LIMIT_PUSHDOWN, gfi_rule_limit_pushdown},
      {GF_PLAN_RULE_DEAD_COLUMNS, gfi_rule_dead_columns},
      {GF_PLAN_RULE_PROJECTION_PUSHDOWN, gfi_rule_projection_pushdown},
  };
  gf_plan *cur = gf_plan_retain((gf_plan *)p);
  for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
    if (!(rules & order[i].bit)) continue;
    gf_plan *next = NULL;
    gf_status st = order[i].fn(cur, &next, err);
    gf_plan_release(cur);
    if (st != GF_OK) return st;
    cur = next;
  }
  *out = cur;
  return GF_OK;
}
