/*
 * Plan nodes: allocation, cloning, release, accessors and the finishing
 * check every builder and optimizer rule goes through.
 */
#include <stdio.h>
#include <string.h>

#include "plan/plan_internal.h"

char *gfi_plan_strdup(const char *s) {
  if (!s) return NULL;
  size_t n = strlen(s) + 1;
  char *d = gfi_malloc(NULL, n);
  if (d) memcpy(d, s, n);
  return d;
}

void gfi_plan_strfree(char *s) {
  if (s) gfi_mfree(NULL, s, strlen(s) + 1);
}

void gfi_plan_names_free(char **names, int n) {
  if (!names) return;
  for (int i = 0; i < n; i++) gfi_plan_strfree(names[i]);
  gfi_mfree(NULL, names, sizeof *names * (size_t)(n > 0 ? n : 1));
}

char **gfi_plan_names_copy(const char *const *names, int n) {
  if (n < 0 || (n > 0 && !names)) return NULL;
  char **d = gfi_calloc(NULL, sizeof *d * (size_t)(n > 0 ? n : 1));
  if (!d) return NULL;
  for (int i = 0; i < n; i++) {
    d[i] = names[i] ? gfi_plan_strdup(names[i]) : NULL;
    if (!d[i]) {
      gfi_plan_names_free(d, n);
      return NULL;
    }
  }
  return d;
}

gf_plan *gfi_plan_alloc(gf_plan_kind kind) {
  gf_plan *p = gfi_calloc(NULL, sizeof *p);
  if (!p) return NULL;
  gfi_ref_init(&p->ref);
  p->kind = kind;
  p->nproj = -1;
  return p;
}

static void csv_src_release(gfi_csv_src *c) {
  if (!c || !gfi_ref_dec(&c->ref)) return;
  gfi_plan_names_free(c->paths, c->npaths);
  gfi_plan_names_free(c->null_values, c->o.num_null_values);
  if (c->column_types) {
    for (int i = 0; i < c->o.num_column_types; i++)
      gfi_plan_strfree((char *)c->column_types[i].name);
    gfi_mfree(NULL, c->column_types, sizeof *c->column_types * (size_t)c->o.num_column_types);
  }
  gfi_plan_names_free(c->columns, c->o.num_columns);
  if (c->mem) {
    for (int i = 0; i < c->npaths; i++) gf_frame_release(c->mem[i]);
    gfi_mfree(NULL, c->mem, sizeof *c->mem * (size_t)c->npaths);
  }
  gfi_mfree(NULL, c, sizeof *c);
}

static void ipc_src_release(gfi_ipc_src *s) {
  if (!s || !gfi_ref_dec(&s->ref)) return;
  gfi_plan_strfree(s->path);
  gf_frame_release(s->mem);
  gfi_mfree(NULL, s, sizeof *s);
}

static void stream_src_release(gfi_stream_src *s) {
  if (!s || !gfi_ref_dec(&s->ref)) return;
  if (s->stream.release) s->stream.release(&s->stream);
  gfi_mfree(NULL, s, sizeof *s);
}

gf_plan *gf_plan_retain(gf_plan *p) {
  if (p) gfi_ref_inc(&p->ref);
  return p;
}

/* Frees the payload of a node whose last reference is gone. */
static void plan_free(gf_plan *p) {
  for (int i = 0; i < p->nin; i++) gf_plan_release(p->in[i]);
  gf_schema_release(p->schema);
  gf_frame_release(p->frame);
  csv_src_release(p->csv);
  ipc_src_release(p->ipc);
  stream_src_release(p->stream);
  gfi_files_src_release(p->files);
  gfi_pq_src_release(p->pq);
  gf_schema_release(p->src_schema);
  gf_plan_release(p->origin);
  if (p->nproj >= 0) gfi_plan_names_free(p->proj, p->nproj);
  gf_expr_release(p->pred);
  gfi_plan_names_free(p->names, p->nnames);
  gfi_plan_names_free(p->names2, p->nnames);
  if (p->exprs) {
    for (int i = 0; i < p->nexprs; i++) gf_expr_release(p->exprs[i]);
    gfi_mfree(NULL, p->exprs, sizeof *p->exprs * (size_t)(p->nexprs > 0 ? p->nexprs : 1));
  }
  gfi_plan_strfree(p->aggs_text);
  gf_agg_list_free(p->aggs);
  if (p->keys) {
    for (int i = 0; i < p->nkeys; i++) gfi_plan_strfree((char *)p->keys[i].column);
    gfi_mfree(NULL, p->keys, sizeof *p->keys * (size_t)p->nkeys);
  }
  gfi_plan_strfree(p->suffix);
  gfi_mfree(NULL, p, sizeof *p);
}

void gf_plan_release(gf_plan *p) {
  /* Iterative over the main (first) input so a long chain of steps does
   * not recurse once per step. */
  while (p && gfi_ref_dec(&p->ref)) {
    gf_plan *next = p->nin > 0 ? p->in[0] : NULL;
    if (p->nin > 0) p->in[0] = NULL;
    plan_free(p);
    p = next;
  }
}

gf_plan_kind gf_plan_get_kind(const gf_plan *p) { return p->kind; }

const char *gf_plan_kind_name(gf_plan_kind k) {
  static const char *const names[] = {"frame", "scan_csv", "scan_ipc", "stream", "filter",
                                      "with_columns", "select", "group_by", "having", "join",
                                      "sort", "limit", "distinct", "union",
                                      "scan_files", "scan_parquet"};
  return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

const gf_schema *gf_plan_schema(const gf_plan *p) { return p ? p->schema : NULL; }
int gf_plan_num_inputs(const gf_plan *p) { return p ? p->nin : 0; }
const gf_plan *gf_plan_input(const gf_plan *p, int i) {
  return p && i >= 0 && i < p->nin ? p->in[i] : NULL;
}

void gfi_plan_set_input(gf_plan *p, int i, const gf_plan *in) {
  gf_plan *old = p->in[i];
  p->in[i] = gf_plan_retain((gf_plan *)in);
  if (i >= p->nin) p->nin = i + 1;
  gf_plan_release(old);
}

gf_plan *gfi_plan_clone(const gf_plan *p) {
  gf_plan *c = gfi_plan_alloc(p->kind);
  if (!c) return NULL;
  bool ok = true;
  c->nin = p->nin;
  for (int i = 0; i < p->nin; i++) c->in[i] = gf_plan_retain(p->in[i]);
  c->frame = p->frame ? gf_frame_retain(p->frame) : NULL;
  if (p->csv) gfi_ref_inc(&p->csv->ref);
  c->csv = p->csv;
  if (p->ipc) gfi_ref_inc(&p->ipc->ref);
  c->ipc = p->ipc;
  if (p->stream) gfi_ref_inc(&p->stream->ref);
  c->stream = p->stream;
  if (p->files) gfi_files_src_retain(p->files);
  c->files = p->files;
  if (p->pq) gfi_ref_inc(&p->pq->ref);
  c->pq = p->pq;
  c->src_schema = p->src_schema ? gf_schema_retain(p->src_schema) : NULL;
  if (p->nin == 0) c->origin = gf_plan_retain(p->origin ? p->origin : (gf_plan *)p);
  if (p->nproj >= 0) {
    c->proj = gfi_plan_names_copy((const char *const *)p->proj, p->nproj);
    if (c->proj) c->nproj = p->nproj;
    else ok = false;
  }
  c->pred = p->pred ? gf_expr_retain(p->pred) : NULL;
  c->scan_rows = p->scan_rows;
  if (p->names) {
    c->names = gfi_plan_names_copy((const char *const *)p->names, p->nnames);
    c->nnames = p->nnames;
    if (!c->names) ok = false;
  }
  if (p->names2 && ok) {
    c->names2 = gfi_plan_names_copy((const char *const *)p->names2, p->nnames);
    if (!c->names2) ok = false;
  }
  if (p->exprs && ok) {
    c->exprs = gfi_calloc(NULL, sizeof *c->exprs * (size_t)(p->nexprs > 0 ? p->nexprs : 1));
    if (c->exprs) {
      c->nexprs = p->nexprs;
      for (int i = 0; i < p->nexprs; i++) c->exprs[i] = gf_expr_retain(p->exprs[i]);
    } else {
      ok = false;
    }
  }
  if (p->aggs_text && ok) {
    c->aggs_text = gfi_plan_strdup(p->aggs_text);
    if (!c->aggs_text || gf_agg_parse(c->aggs_text, &c->aggs, NULL) != GF_OK) ok = false;
  }
  c->sort_keys = p->sort_keys;
  if (p->keys && ok) {
    c->keys = gfi_calloc(NULL, sizeof *c->keys * (size_t)p->nkeys);
    if (c->keys) {
      c->nkeys = p->nkeys;
      for (int i = 0; i < p->nkeys; i++) {
        c->keys[i] = p->keys[i];
        c->keys[i].column = gfi_plan_strdup(p->keys[i].column);
        if (!c->keys[i].column) ok = false;
      }
    } else {
      ok = false;
    }
  }
  c->topk = p->topk;
  c->offset = p->offset;
  c->count = p->count;
  c->how = p->how;
  if (p->suffix && ok) {
    c->suffix = gfi_plan_strdup(p->suffix);
    if (!c->suffix) ok = false;
  }
  if (!ok) {
    c->schema = NULL;
    gf_plan_release(c);
    return NULL;
  }
  return c;
}

gf_status gfi_plan_finish(gf_plan *p, gf_plan **out, gf_error *err) {
  int step = 1;
  for (int i = 0; i < p->nin; i++)
    if (p->in[i]->step + 1 > step) step = p->in[i]->step + 1;
  p->step = step;
  gf_schema_release(p->schema);
  p->schema = NULL;
  gf_error inner;
  gf_error_clear(&inner);
  gf_status st = gfi_plan_derive_schema(p, &p->schema, &inner);
  if (st != GF_OK) {
    if (st == GF_ENOMEM)
      gf_error_set(err, st, "%s", inner.message);
    else
      gf_error_set(err, st, "step %d (%s): %s", step, gf_plan_kind_name(p->kind), inner.message);
    gf_plan_release(p);
    return st;
  }
  *out = p;
  return GF_OK;
}

/* Whether column `name` has a non-dictionary type in the source's
 * column_types. */
static bool csv_pinned(const gfi_csv_src *c, const char *name) {
  for (int i = 0; i < c->o.num_column_types; i++)
    if (c->column_types[i].name && strcmp(c->column_types[i].name, name) == 0)
      return c->column_types[i].type.id != GF_TYPE_DICTIONARY;
  return false;
}

int64_t gfi_csv_scan_cap(const gf_plan *p) {
  if (p->kind != GF_PLAN_CSV || p->scan_rows <= 0 || p->pred) return 0;
  /* A whole read made at build (a pipe) is sliced, not capped. */
  if (p->csv->mem) return 0;
  if (p->nproj >= 0) {
    for (int i = 0; i < p->nproj; i++)
      if (!csv_pinned(p->csv, p->proj[i])) return 0;
  } else {
    for (int i = 0; i < gf_schema_num_fields(p->src_schema); i++)
      if (!csv_pinned(p->csv, gf_schema_field(p->src_schema, i)->name)) return 0;
  }
  return p->scan_rows;
}
