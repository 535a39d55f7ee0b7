/* Rules not written yet: the plan unchanged. */
#include "plan/plan_internal.h"

gf_status gfi_rule_constant_folding(const gf_plan *p, gf_plan **out, gf_error *err) {
  (void)err;
  *out = gf_plan_retain((gf_plan *)p);
  return GF_OK;
}
gf_status gfi_rule_predicate_pushdown(const gf_plan *p, gf_plan **out, gf_error *err) {
  (void)err;
  *out = gf_plan_retain((gf_plan *)p);
  return GF_OK;
}
gf_status gfi_rule_limit_pushdown(const gf_plan *p, gf_plan **out, gf_error *err) {
  (void)err;
  *out = gf_plan_retain((gf_plan *)p);
  return GF_OK;
}
gf_status gfi_rule_projection_pushdown(const gf_plan *p, gf_plan **out, gf_error *err) {
  (void)err;
  *out = gf_plan_retain((gf_plan *)p);
  return GF_OK;
}
gf_status gfi_rule_dead_columns(const gf_plan *p, gf_plan **out, gf_error *err) {
  (void)err;
  *out = gf_plan_retain((gf_plan *)p);
  return GF_OK;
}
