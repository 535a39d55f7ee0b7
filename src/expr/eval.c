/*
 * Batch-level evaluation of bound expressions over (batch, selection):
 * walks the bound tree, feeding each kernel views of its children, and the
 * predicate entry point filters use (straight to a selection vector, with
 * statistics-based batch skipping).
 */
#include <string.h>

#include "expr/kernels.h"

typedef struct ectx {
  gf_array *const *columns;
  int64_t start;
  const int32_t *sel;
  gfi_kctx k;
} ectx;

static void val_release(gfi_val *v) {
  if (!v->scalar) gf_array_release(v->arr);
  v->arr = NULL;
}

static bool is_leaf(const gfi_bnode *b) {
  return b->kind == GFI_B_SCALAR || b->kind == GFI_B_COLUMN;
}

/* Value of a leaf (scalar or column) over the rows of c. */
static gf_status eval_leaf(ectx *c, const gfi_bnode *b, gfi_val *out) {
  gfi_kctx *k = &c->k;
  memset(out, 0, sizeof *out);
  out->len = k->n;
  if (b->kind == GFI_B_SCALAR) {
    out->scalar = true;
    out->lit = &b->lit;
    return GF_OK;
  }
  gf_array *col = c->columns[b->col];
  if (!c->sel) {
    out->arr = gf_array_retain(col);
    out->off = c->start;
    return GF_OK;
  }
  gfi_piece p = {col, c->sel, 0, k->n};
  return gfi_gather(&p, 1, k->a, false, &out->arr, k->err);
}

/* Runs the kernel of inner node b over its kids' values v[0..nkids)
 * (released here, whatever happens). */
static gf_status eval_node(ectx *c, const gfi_bnode *b, gfi_val *v, gfi_val *out) {
  gfi_kctx *k = &c->k;
  memset(out, 0, sizeof *out);
  out->len = k->n;
  gf_array *r = NULL;
  gf_status st;
  switch (b->kind) {
    case GFI_B_CAST: st = gfi_k_cast(k, b->type, &v[0], &r); break;
    case GFI_B_ARITH: st = gfi_k_arith(k, b, &v[0], &v[1], &r); break;
    case GFI_B_NEG: st = gfi_k_neg(k, b, &v[0], &r); break;
    case GFI_B_CMP: st = gfi_k_cmp(k, b, &v[0], &v[1], &r); break;
    case GFI_B_CMP_DICT: st = gfi_k_cmp_dict(k, b, &v[0], &v[1], &r); break;
    case GFI_B_AND:
    case GFI_B_OR: st = gfi_k_logic(k, b, &v[0], &v[1], &r); break;
    case GFI_B_NOT: st = gfi_k_not(k, &v[0], &r); break;
    case GFI_B_IS_NULL: st = gfi_k_is_null(k, &v[0], true, &r); break;
    case GFI_B_IS_NOT_NULL: st = gfi_k_is_null(k, &v[0], false, &r); break;
    case GFI_B_IF: st = gfi_k_if(k, b, &v[0], &v[1], &v[2], &r); break;
    case GFI_B_MATH: st = gfi_k_math(k, b, &v[0], b->nkids > 1 ? &v[1] : NULL, &r); break;
    case GFI_B_POW: st = gfi_k_pow(k, &v[0], &v[1], &r); break;
    case GFI_B_LENGTH:
    case GFI_B_LOWER:
    case GFI_B_UPPER:
    case GFI_B_STRPRED:
    case GFI_B_SUBSTR: {
      gfi_val *args[3] = {&v[0], &v[1], &v[2]};
      st = gfi_k_string(k, b, args, b->nkids, &r);
      break;
    }
    case GFI_B_DATEPART: st = gfi_k_datepart(k, b, &v[0], &r); break;
    case GFI_B_IN_SET: st = gfi_k_in_set(k, b, &v[0], &r); break;
    default: st = gf_error_set(k->err, GF_EINTERNAL, "unknown bound node kind %d", (int)b->kind);
  }
  for (int i = 0; i < b->nkids; i++) val_release(&v[i]);
  if (st != GF_OK) return st;
  out->arr = r;
  return GF_OK;
}

/* One inner node waiting for its kids' values on eval's stack. */
typedef struct eframe {
  const gfi_bnode *b;
  int next;     /* kids evaluated so far */
  gfi_val v[3];
} eframe;

static gf_status push_eframe(ectx *c, gfi_vec *stk, const gfi_bnode *b) {
  eframe f;
  memset(&f, 0, sizeof f);
  f.b = b;
  return gfi_vec_append(stk, &f, sizeof f, c->k.err);
}

/* Evaluates the bound tree under b without recursion: a post-order walk
 * over a heap stack of frames (one per level of the current path), so a
 * flat chain of any length evaluates on a worker's small stack. Leaves are
 * read in place, without a frame. */
static gf_status eval(ectx *c, const gfi_bnode *root, gfi_val *out) {
  if (is_leaf(root)) return eval_leaf(c, root, out);
  gfi_vec stk;
  gfi_vec_init(&stk, c->k.a);
  gf_status st = push_eframe(c, &stk, root);
  while (st == GF_OK && stk.len > 0) {
    eframe *f = (eframe *)(void *)(stk.data + stk.len - sizeof(eframe));
    if (f->next < f->b->nkids) {
      const gfi_bnode *kid = f->b->kids[f->next];
      if (is_leaf(kid)) {
        st = eval_leaf(c, kid, &f->v[f->next]);
        if (st == GF_OK) f->next++;
      } else {
        st = push_eframe(c, &stk, kid);
      }
      continue;
    }
    gfi_val r;
    f->next = 0; /* eval_node releases the values, whatever happens */
    st = eval_node(c, f->b, f->v, &r);
    stk.len -= sizeof(eframe);
    if (st != GF_OK) break;
    if (stk.len == 0) {
      *out = r;
      break;
    }
    eframe *parent = (eframe *)(void *)(stk.data + stk.len - sizeof(eframe));
    parent->v[parent->next++] = r;
  }
  while (stk.len > 0) { /* failure: drop the values still held */
    eframe *f = (eframe *)(void *)(stk.data + stk.len - sizeof(eframe));
    for (int i = 0; i < f->next; i++) val_release(&f->v[i]);
    stk.len -= sizeof(eframe);
  }
  gfi_vec_reset(&stk);
  return st;
}

gf_status gfi_eval_batch(const gf_bound_expr *b, gf_array *const *columns,
                         int64_t start, int64_t length, const int32_t *sel,
                         int64_t nsel, const gf_allocator *a, gf_array **out,
                         gf_error *err) {
  ectx c = {columns, start, sel, {gfi_alloc_or_default(a), err, sel ? nsel : length}};
  gfi_val v;
  GF_RETURN_NOT_OK(eval(&c, b->root, &v));
  gf_status st = GF_OK;
  if (v.scalar) {
    st = gfi_broadcast(&c.k, v.lit, out);
    if (st == GF_OK && gfi_val_is_null_scalar(&v) && !gf_type_equals((*out)->type, b->root->type)) {
      gf_array_release(*out);
      st = gfi_all_null(&c.k, b->root->type, out);
    }
    return st;
  }
  if (v.off == 0 && v.arr->length == c.k.n) {
    *out = v.arr;
    return GF_OK;
  }
  st = gf_array_slice(v.arr, v.off, c.k.n, out, err);
  gf_array_release(v.arr);
  return st;
}

/* Batch-relative indices of the set bits of `bits` (and `valid`) in [0, n). */
static int64_t bits_to_sel(const uint8_t *bits, const uint8_t *valid, int64_t n,
                           int32_t base, int32_t *sel) {
  int64_t cnt = 0, nb = gfi_bitmap_bytes(n);
  for (int64_t j = 0; j < nb; j++) {
    unsigned byte = bits[j] & (valid ? valid[j] : 0xff);
    if (j == nb - 1 && (n & 7)) byte &= (1u << (n & 7)) - 1;
    while (byte) {
      int t = __builtin_ctz(byte);
      sel[cnt++] = base + (int32_t)(j * 8 + t);
      byte &= byte - 1;
    }
  }
  return cnt;
}

gf_status gfi_eval_predicate(const gf_bound_expr *b, gf_array *const *columns,
                             int64_t start, int64_t length, int32_t *sel,
                             int64_t *nsel, const gf_allocator *a,
                             gf_error *err) {
  const gfi_bnode *r = b->root;
  if (r->kind == GFI_B_CMP && r->kids[0]->kind == GFI_B_COLUMN &&
      r->kids[1]->kind == GFI_B_SCALAR) {
    gfi_val x = {false, NULL, columns[r->kids[0]->col], start, length};
    gfi_val y = {true, &r->kids[1]->lit, NULL, 0, length};
    int64_t cnt = gfi_k_cmp_select(r, &x, &y, (int32_t)start, sel);
    if (cnt >= 0) {
      *nsel = cnt;
      return GF_OK;
    }
  }
  gf_array *res;
  GF_RETURN_NOT_OK(gfi_eval_batch(b, columns, start, length, NULL, 0, a, &res, err));
  if (res->type.id != GF_TYPE_BOOL) {
    gf_array_release(res);
    return gf_error_set(err, GF_ETYPE, "filter predicate must be bool");
  }
  gfi_kctx k = {gfi_alloc_or_default(a), err, length};
  gfi_val v = {false, NULL, res, 0, length};
  const uint8_t *bits, *valid = NULL;
  uint8_t *s1 = NULL, *s2 = NULL;
  size_t b1 = 0, b2 = 0;
  gf_status st = gfi_aligned_bits(&k, &v, 1, &bits, &s1, &b1);
  if (st == GF_OK && res->null_count > 0)
    st = gfi_aligned_bits(&k, &v, 0, &valid, &s2, &b2);
  if (st == GF_OK) *nsel = bits_to_sel(bits, valid, length, (int32_t)start, sel);
  if (s1) gfi_mfree(k.a, s1, b1);
  if (s2) gfi_mfree(k.a, s2, b2);
  gf_array_release(res);
  return st;
}

/* True when statistics prove `column op literal` false or null everywhere. */
static bool cmp_skips(const gfi_bnode *r, gf_array *const *columns) {
  if (r->kind != GFI_B_CMP || r->kids[0]->kind != GFI_B_COLUMN ||
      r->kids[1]->kind != GFI_B_SCALAR)
    return false;
  const gf_array *col = columns[r->kids[0]->col];
  const gfi_lit *l = &r->kids[1]->lit;
  if (col->length == 0 || col->null_count == col->length) return true;
  if (l->null || l->type.id == GF_TYPE_NULL) return true;
  const gf_stats *s = &col->stats;
  if (!s->has_min_max || s->is_unsigned) return false;
  double mn, mx, c;
  if (r->domain == GFI_DOM_I64 && !s->is_float) {
    int64_t a = s->min.i, b = s->max.i, v = l->i;
    switch (r->op) {
      case GF_OP_EQ: return v < a || v > b;
      case GF_OP_NE: return a == b && a == v;
      case GF_OP_LT: return a >= v;
      case GF_OP_LE: return a > v;
      case GF_OP_GT: return b <= v;
      default: return b < v;
    }
  }
  if (r->domain != GFI_DOM_F64) return false;
  if (s->is_float) {
    mn = s->min.f;
    mx = s->max.f;
  } else {
    mn = (double)s->min.i;
    mx = (double)s->max.i;
  }
  c = l->f;
  if (mn != mn || mx != mx || c != c) return false; /* NaN: no proof */
  switch (r->op) {
    case GF_OP_EQ: return c < mn || c > mx;
    case GF_OP_NE: return false;
    case GF_OP_LT: return mn >= c;
    case GF_OP_LE: return mn > c;
    case GF_OP_GT: return mx <= c;
    default: return mx < c;
  }
}

/* True when statistics prove predicate r not true on any row: AND skips
 * when either side does, OR when both do. Walks AND/OR chains over a heap
 * stack (no recursion); with no memory for it, it proves nothing (false),
 * which only costs the skip. Each stack entry is a node and whether its
 * value must be proved (want skip) under an AND (any) or OR (all). */
static bool node_skips(const gfi_bnode *root, gf_array *const *columns) {
  if (root->kind != GFI_B_AND && root->kind != GFI_B_OR)
    return root->kind == GFI_B_IS_NULL && root->kids[0]->kind == GFI_B_COLUMN
               ? columns[root->kids[0]->col]->null_count == 0
           : root->kind == GFI_B_SCALAR
               ? root->lit.null || root->lit.type.id == GF_TYPE_NULL || root->lit.i == 0
               : cmp_skips(root, columns);
  /* skips(n) = AND: any kid skips; OR: all kids skip. Evaluated as a
   * post-order walk computing one bool per node. */
  typedef struct sframe { const gfi_bnode *n; int next; bool acc; } sframe;
  gfi_vec stk;
  gfi_vec_init(&stk, NULL);
  sframe first = {root, 0, root->kind == GFI_B_OR};
  bool result = false;
  if (gfi_vec_append(&stk, &first, sizeof first, NULL) != GF_OK) return false;
  while (stk.len > 0) {
    sframe *f = (sframe *)(void *)(stk.data + stk.len - sizeof(sframe));
    bool is_or = f->n->kind == GFI_B_OR;
    /* Short cut: AND already proved, OR already disproved. */
    bool settled = is_or ? !f->acc : f->acc;
    if (!settled && f->next < 2) {
      const gfi_bnode *kid = f->n->kids[f->next++];
      if (kid->kind == GFI_B_AND || kid->kind == GFI_B_OR) {
        sframe k = {kid, 0, kid->kind == GFI_B_OR};
        if (gfi_vec_append(&stk, &k, sizeof k, NULL) != GF_OK) {
          gfi_vec_reset(&stk);
          return false;
        }
        continue;
      }
      bool v = node_skips(kid, columns); /* a leaf: no further nesting */
      f->acc = is_or ? f->acc && v : f->acc || v;
      continue;
    }
    bool v = f->acc;
    stk.len -= sizeof(sframe);
    if (stk.len == 0) {
      result = v;
      break;
    }
    sframe *p = (sframe *)(void *)(stk.data + stk.len - sizeof(sframe));
    p->acc = p->n->kind == GFI_B_OR ? p->acc && v : p->acc || v;
  }
  gfi_vec_reset(&stk);
  return result;
}

bool gfi_predicate_skips(const gf_bound_expr *b, gf_array *const *columns) {
  return node_skips(b->root, columns);
}
