/*
 * The public plan builders (include/gopherframe/plan.h): each makes an
 * unfinished node, copies its arguments into it and finishes it (checking
 * it against its inputs' schemas).
 */
#include <string.h>
#include <sys/stat.h>

#include "ops/ops_internal.h"
#include "plan/plan_internal.h"

/* Checks a name list argument (n >= 0, no NULL name). */
static gf_status names_ok(const char *what, const char *const *names, int n, gf_error *err) {
  if (n < 0 || (n > 0 && !names)) return gf_error_set(err, GF_EINVAL, "%s: invalid name list", what);
  for (int i = 0; i < n; i++)
    if (!names[i]) return gf_error_set(err, GF_EINVAL, "%s: name %d is NULL", what, i);
  return GF_OK;
}

/* ---- sources ------------------------------------------------------------ */

gf_status gf_plan_from_frame(gf_frame *f, gf_plan **out, gf_error *err) {
  if (!f || !out) return gf_error_set(err, GF_EINVAL, "gf_plan_from_frame: NULL argument");
  gf_plan *p = gfi_plan_alloc(GF_PLAN_FRAME);
  if (!p) return GF_OOM(err, "plan node");
  p->frame = gf_frame_retain(f);
  p->src_schema = gf_schema_retain(gf_frame_schema(f));
  return gfi_plan_finish(p, out, err);
}

/* Deep copy of CSV read options into a shared source record. */
static gfi_csv_src *csv_src_new(const char *const *paths, int npaths, const gf_csv_read_options *o) {
  gfi_csv_src *c = gfi_calloc(NULL, sizeof *c);
  if (!c) return NULL;
  gfi_ref_init(&c->ref);
  if (o)
    memcpy(&c->o, o, o->size && o->size < sizeof c->o ? o->size : sizeof c->o);
  else
    gf_csv_read_options_init(&c->o);
  c->o.size = sizeof c->o;
  c->o.parallel = NULL;
  int nnull = c->o.null_values ? c->o.num_null_values : 0;
  int ntypes = c->o.column_types ? c->o.num_column_types : 0;
  int ncols = c->o.columns ? c->o.num_columns : 0;
  c->o.num_null_values = 0;
  c->o.num_column_types = 0;
  c->o.num_columns = 0;
  const char *const *user_nulls = c->o.null_values;
  const gf_csv_column_type *user_types = c->o.column_types;
  const char *const *user_cols = c->o.columns;
  c->o.null_values = NULL;
  c->o.column_types = NULL;
  c->o.columns = NULL;
  bool ok = true;
  c->paths = gfi_plan_names_copy(paths, npaths);
  if (c->paths) c->npaths = npaths;
  else ok = false;
  if (ok && user_nulls) {
    c->null_values = gfi_plan_names_copy(user_nulls, nnull);
    if (c->null_values) {
      c->o.null_values = (const char *const *)c->null_values;
      c->o.num_null_values = nnull;
    } else {
      ok = false;
    }
  }
  if (ok && user_types && ntypes > 0) {
    c->column_types = gfi_calloc(NULL, sizeof *c->column_types * (size_t)ntypes);
    if (c->column_types) {
      c->o.column_types = c->column_types;
      c->o.num_column_types = ntypes;
      for (int i = 0; i < ntypes && ok; i++) {
        c->column_types[i] = user_types[i];
        c->column_types[i].name = gfi_plan_strdup(user_types[i].name);
        if (user_types[i].name && !c->column_types[i].name) ok = false;
      }
    } else {
      ok = false;
    }
  }
  if (ok && user_cols) {
    c->columns = gfi_plan_names_copy(user_cols, ncols);
    if (c->columns) {
      c->o.columns = (const char *const *)c->columns;
      c->o.num_columns = ncols;
    } else {
      ok = false;
    }
  }
  if (!ok) {
    /* Release through a throwaway node so one function frees sources. */
    gf_plan *tmp = gfi_plan_alloc(GF_PLAN_CSV);
    if (tmp) {
      tmp->csv = c;
      gf_plan_release(tmp);
    }
    return NULL;
  }
  return c;
}

/* The options of a build-time read: the caller's `b` (NULL = defaults;
 * a shorter struct is accepted) without its statistics. */
static void build_options(const gf_parallel_options *b, gf_parallel_options *po) {
  gf_parallel_options_init(po);
  if (b) memcpy(po, b, b->size && b->size < sizeof *po ? b->size : sizeof *po);
  po->size = sizeof *po;
  po->stats = NULL;
}

/* True when `path` names something other than a regular file (a pipe, a
 * FIFO, /dev/stdin, a character device): such an input can be read only
 * once, so the source reads it whole when it is built. A path that cannot
 * be stat'ed counts as regular: the read reports the error. */
static bool read_once(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 && !S_ISREG(sb.st_mode);
}

gf_status gf_plan_scan_csv_files_with(const char *const *paths, int npaths,
                                      const gf_csv_read_options *o,
                                      const gf_parallel_options *build, gf_plan **out,
                                      gf_error *err) {
  if (!out || npaths < 1) return gf_error_set(err, GF_EINVAL, "gf_plan_scan_csv_files: no path");
  GF_RETURN_NOT_OK(names_ok("gf_plan_scan_csv_files", paths, npaths, err));
  gf_plan *p = gfi_plan_alloc(GF_PLAN_CSV);
  if (!p) return GF_OOM(err, "plan node");
  p->csv = csv_src_new(paths, npaths, o);
  if (!p->csv) {
    gf_plan_release(p);
    return GF_OOM(err, "CSV source");
  }
  gf_parallel_options po;
  build_options(build, &po);
  gf_status st = GF_OK;
  /* Inputs that can be read only once are read now, whole, with the
   * caller's read options; the runs start from these frames. */
  for (int i = 0; i < npaths && st == GF_OK; i++) {
    if (!read_once(paths[i])) continue;
    if (!p->csv->mem) {
      p->csv->mem = gfi_calloc(NULL, sizeof *p->csv->mem * (size_t)npaths);
      if (!p->csv->mem) st = GF_OOM(err, "CSV source");
    }
    gf_csv_read_options ro = p->csv->o;
    ro.parallel = &po;
    if (st == GF_OK) st = gf_read_csv(paths[i], &ro, &p->csv->mem[i], err);
  }
  if (st != GF_OK) {
    gf_plan_release(p);
    return st;
  }
  if (p->csv->mem && p->csv->mem[0]) {
    p->src_schema = gf_schema_retain(gf_frame_schema(p->csv->mem[0]));
    return gfi_plan_finish(p, out, err);
  }
  /* The planned schema: the reader's own inference over the first rows. */
  gf_csv_read_options so = p->csv->o;
  if (so.max_rows <= 0 || so.max_rows > GF_PLAN_CSV_SAMPLE_ROWS) so.max_rows = GF_PLAN_CSV_SAMPLE_ROWS;
  so.progress = NULL;
  po.num_workers = 1;
  so.parallel = &po;
  gf_frame *sample = NULL;
  st = gf_read_csv(paths[0], &so, &sample, err);
  if (st != GF_OK) {
    gf_plan_release(p);
    return st;
  }
  p->src_schema = gf_schema_retain(gf_frame_schema(sample));
  gf_frame_release(sample);
  return gfi_plan_finish(p, out, err);
}

gf_status gf_plan_scan_csv_files(const char *const *paths, int npaths, const gf_csv_read_options *o,
                                 gf_plan **out, gf_error *err) {
  return gf_plan_scan_csv_files_with(paths, npaths, o, NULL, out, err);
}

gf_status gf_plan_scan_csv_with(const char *path, const gf_csv_read_options *o,
                                const gf_parallel_options *build, gf_plan **out, gf_error *err) {
  if (!path) return gf_error_set(err, GF_EINVAL, "gf_plan_scan_csv: path is NULL");
  return gf_plan_scan_csv_files_with(&path, 1, o, build, out, err);
}

gf_status gf_plan_scan_csv(const char *path, const gf_csv_read_options *o, gf_plan **out,
                           gf_error *err) {
  return gf_plan_scan_csv_with(path, o, NULL, out, err);
}

gf_status gf_plan_scan_ipc_with(const char *path, const gf_ipc_read_options *o,
                                const gf_parallel_options *build, gf_plan **out, gf_error *err) {
  if (!path || !out) return gf_error_set(err, GF_EINVAL, "gf_plan_scan_ipc: NULL argument");
  gf_plan *p = gfi_plan_alloc(GF_PLAN_IPC);
  gfi_ipc_src *s = gfi_calloc(NULL, sizeof *s);
  if (!p || !s) {
    if (s) gfi_mfree(NULL, s, sizeof *s);
    gf_plan_release(p);
    return GF_OOM(err, "IPC source");
  }
  gfi_ref_init(&s->ref);
  p->ipc = s;
  if (o)
    memcpy(&s->o, o, o->size && o->size < sizeof s->o ? o->size : sizeof s->o);
  else
    gf_ipc_read_options_init(&s->o);
  s->o.size = sizeof s->o;
  s->o.metadata = NULL;
  s->o.parallel = NULL;
  s->path = gfi_plan_strdup(path);
  if (!s->path) {
    gf_plan_release(p);
    return GF_OOM(err, "IPC source");
  }
  gf_parallel_options po;
  build_options(build, &po);
  gf_ipc_read_options so = s->o;
  so.parallel = &po;
  bool once = read_once(path);
  if (!once) {
    /* Only the metadata is read: a trusted mapping costs no body reads. */
    so.validation = GF_IPC_VALIDATE_METADATA_ONLY;
    so.input_mode = GF_INPUT_MMAP;
  }
  gf_frame *f = NULL;
  gf_status st = gf_read_ipc(path, &so, &f, err);
  if (st != GF_OK) {
    gf_plan_release(p);
    return st;
  }
  p->src_schema = gf_schema_retain(gf_frame_schema(f));
  /* A pipe is read once, whole, with the caller's validation: runs start
   * from this frame. */
  if (once) s->mem = f;
  else gf_frame_release(f);
  return gfi_plan_finish(p, out, err);
}

gf_status gf_plan_scan_ipc(const char *path, const gf_ipc_read_options *o, gf_plan **out,
                           gf_error *err) {
  return gf_plan_scan_ipc_with(path, o, NULL, out, err);
}

gf_status gf_plan_from_stream(struct ArrowArrayStream *stream, gf_plan **out, gf_error *err) {
  if (!stream || !out || !stream->release)
    return gf_error_set(err, GF_EINVAL, "gf_plan_from_stream: NULL or released stream");
  struct ArrowSchema sc;
  memset(&sc, 0, sizeof sc);
  int rc = stream->get_schema(stream, &sc);
  if (rc != 0) {
    const char *m = stream->get_last_error ? stream->get_last_error(stream) : NULL;
    return gf_error_set(err, GF_EIO, "gf_plan_from_stream: get_schema failed (%d): %s", rc,
                        m ? m : "no message");
  }
  gf_schema *schema = NULL;
  gf_status st = gf_schema_import(&sc, &schema, err);
  if (sc.release) sc.release(&sc);
  if (st != GF_OK) return st;
  gf_plan *p = gfi_plan_alloc(GF_PLAN_STREAM);
  gfi_stream_src *s = gfi_calloc(NULL, sizeof *s);
  if (!p || !s) {
    if (s) gfi_mfree(NULL, s, sizeof *s);
    gf_plan_release(p);
    gf_schema_release(schema);
    return GF_OOM(err, "stream source");
  }
  gfi_ref_init(&s->ref);
  atomic_init(&s->consumed, false);
  s->stream = *stream;
  stream->release = NULL;
  p->stream = s;
  p->src_schema = schema;
  return gfi_plan_finish(p, out, err);
}

/* ---- operators ---------------------------------------------------------- */

/* A new unfinished node of `kind` over `in`. */
static gf_plan *unary(gf_plan_kind kind, const gf_plan *in) {
  gf_plan *p = gfi_plan_alloc(kind);
  if (p) gfi_plan_set_input(p, 0, in);
  return p;
}

/* Stores one retained expression as exprs[0]. */
static bool set_expr(gf_plan *p, const gf_expr *e) {
  p->exprs = gfi_malloc(NULL, sizeof *p->exprs);
  if (!p->exprs) return false;
  p->exprs[0] = gf_expr_retain((gf_expr *)e);
  p->nexprs = 1;
  return true;
}

gf_status gf_plan_filter(const gf_plan *in, const gf_expr *predicate, gf_plan **out, gf_error *err) {
  if (!in || !predicate || !out) return gf_error_set(err, GF_EINVAL, "gf_plan_filter: NULL argument");
  gf_plan *p = unary(GF_PLAN_FILTER, in);
  if (!p || !set_expr(p, predicate)) {
    gf_plan_release(p);
    return GF_OOM(err, "plan node");
  }
  return gfi_plan_finish(p, out, err);
}

/* The output columns of a group-by parsed as expressions, to recognise
 * aggregate calls in a having predicate, and the group-by's items. */
typedef struct agg_names {
  const gf_schema *s;
  gf_expr **parsed;       /* per column: the name parsed, or NULL */
  const gf_agg_list *aggs; /* the group-by's aggregate list, or NULL */
} agg_names;

/* An aggregate call equal to an output column's name becomes that column;
 * else a sub-expression holding an aggregate that equals an item of the
 * group-by as written (`sum(age)` for `sum(age) as s`) becomes that
 * item's output column. */
static gf_expr *agg_to_column(void *user, const gf_expr *x) {
  agg_names *an = user;
  if (gfi_is_aggregate_call(x)) {
    for (int i = 0; i < gf_schema_num_fields(an->s); i++)
      if (an->parsed[i] && gf_expr_equals(an->parsed[i], x))
        return gf_col(gf_schema_field(an->s, i)->name);
  }
  if (!an->aggs) return NULL;
  for (int i = 0; i < gf_agg_list_count(an->aggs); i++) {
    const gf_expr *item = gfi_agg_list_item(an->aggs, i);
    if (item && gf_expr_equals(item, x) && gfi_expr_find_aggregate(item))
      return gf_col(gf_agg_list_name(an->aggs, i));
  }
  return NULL;
}

gf_status gf_plan_having(const gf_plan *in, const gf_expr *predicate, gf_plan **out, gf_error *err) {
  if (!in || !predicate || !out) return gf_error_set(err, GF_EINVAL, "gf_plan_having: NULL argument");
  /* `sum(v1) > 10` reads the output column named "sum(v1)" (or any name
   * that parses to the same call, e.g. "sum( v1 )"). */
  int nf = gf_schema_num_fields(in->schema);
  const gf_plan *g = in;
  while (g->kind == GF_PLAN_HAVING) g = g->in[0];
  agg_names an = {in->schema, gfi_calloc(NULL, sizeof(gf_expr *) * (size_t)(nf > 0 ? nf : 1)),
                  g->kind == GF_PLAN_GROUP_BY ? g->aggs : NULL};
  if (!an.parsed) return GF_OOM(err, "having");
  for (int i = 0; i < nf; i++)
    if (gf_expr_parse(gf_schema_field(in->schema, i)->name, &an.parsed[i], NULL) != GF_OK) an.parsed[i] = NULL;
  gf_expr *pred = NULL;
  gf_status st = gfi_expr_replace(predicate, agg_to_column, &an, &pred, err);
  for (int i = 0; i < nf; i++) gf_expr_release(an.parsed[i]);
  gfi_mfree(NULL, an.parsed, sizeof(gf_expr *) * (size_t)(nf > 0 ? nf : 1));
  if (st != GF_OK) return st;
  gf_plan *p = unary(GF_PLAN_HAVING, in);
  if (!p || !set_expr(p, pred)) {
    gf_expr_release(pred);
    gf_plan_release(p);
    return GF_OOM(err, "plan node");
  }
  gf_expr_release(pred);
  return gfi_plan_finish(p, out, err);
}

gf_status gf_plan_with_columns(const gf_plan *in, const char *const *names, gf_expr *const *exprs,
                               int n, gf_plan **out, gf_error *err) {
  if (!in || !out || n < 1 || !exprs)
    return gf_error_set(err, GF_EINVAL, "gf_plan_with_columns: invalid argument");
  GF_RETURN_NOT_OK(names_ok("gf_plan_with_columns", names, n, err));
  for (int i = 0; i < n; i++)
    if (!exprs[i]) return gf_error_set(err, GF_EINVAL, "gf_plan_with_columns: expression %d is NULL", i);
  gf_plan *p = unary(GF_PLAN_WITH, in);
  if (p) {
    p->names = gfi_plan_names_copy(names, n);
    p->exprs = gfi_calloc(NULL, sizeof *p->exprs * (size_t)n);
  }
  if (!p || !p->names || !p->exprs) {
    if (p && p->names) p->nnames = n;
    if (p && p->exprs) p->nexprs = n;
    gf_plan_release(p);
    return GF_OOM(err, "plan node");
  }
  p->nnames = n;
  p->nexprs = n;
  for (int i = 0; i < n; i++) p->exprs[i] = gf_expr_retain(exprs[i]);
  return gfi_plan_finish(p, out, err);
}

/* A node holding a copy of a name list. */
static gf_status names_node(gf_plan_kind kind, const gf_plan *in, const char *what,
                            const char *const *names, int n, gf_plan **node, gf_error *err) {
  if (!in || !node) return gf_error_set(err, GF_EINVAL, "%s: NULL argument", what);
  GF_RETURN_NOT_OK(names_ok(what, names, n, err));
  gf_plan *p = unary(kind, in);
  if (p) p->names = gfi_plan_names_copy(names, n);
  if (!p || !p->names) {
    gf_plan_release(p);
    return GF_OOM(err, "plan node");
  }
  p->nnames = n;
  *node = p;
  return GF_OK;
}

gf_status gf_plan_select(const gf_plan *in, const char *const *names, int n, gf_plan **out,
                         gf_error *err) {
  gf_plan *p = NULL;
  GF_RETURN_NOT_OK(names_node(GF_PLAN_SELECT, in, "gf_plan_select", names, n, &p, err));
  return gfi_plan_finish(p, out, err);
}

gf_status gf_plan_group_by(const gf_plan *in, const char *const *keys, int nkeys, const char *aggs,
                           bool sort_keys, gf_plan **out, gf_error *err) {
  gf_plan *p = NULL;
  GF_RETURN_NOT_OK(names_node(GF_PLAN_GROUP_BY, in, "gf_plan_group_by", keys, nkeys, &p, err));
  p->sort_keys = sort_keys;
  if (aggs && aggs[0]) {
    p->aggs_text = gfi_plan_strdup(aggs);
    if (!p->aggs_text) {
      gf_plan_release(p);
      return GF_OOM(err, "plan node");
    }
    gf_error inner;
    gf_status st = gf_agg_parse(aggs, &p->aggs, &inner);
    if (st != GF_OK) {
      int step = in->step + 1;
      gf_plan_release(p);
      return gf_error_set(err, st, "step %d (group_by): %s", step, inner.message);
    }
  }
  return gfi_plan_finish(p, out, err);
}

gf_status gf_plan_join(const gf_plan *left, const gf_plan *right, const char *const *left_on,
                       const char *const *right_on, int nkeys, gf_join_kind how, const char *suffix,
                       gf_plan **out, gf_error *err) {
  if (!left || !right || !out || nkeys < 1 || (int)how < GF_JOIN_INNER || (int)how > GF_JOIN_ANTI)
    return gf_error_set(err, GF_EINVAL, "gf_plan_join: invalid argument");
  GF_RETURN_NOT_OK(names_ok("gf_plan_join", left_on, nkeys, err));
  GF_RETURN_NOT_OK(names_ok("gf_plan_join", right_on, nkeys, err));
  gf_plan *p = unary(GF_PLAN_JOIN, left);
  if (p) {
    gfi_plan_set_input(p, 1, right);
    p->names = gfi_plan_names_copy(left_on, nkeys);
    p->nnames = p->names ? nkeys : 0;
    p->names2 = p->names ? gfi_plan_names_copy(right_on, nkeys) : NULL;
    p->suffix = suffix ? gfi_plan_strdup(suffix) : NULL;
    p->how = how;
  }
  if (!p || !p->names || !p->names2 || (suffix && !p->suffix)) {
    gf_plan_release(p);
    return GF_OOM(err, "plan node");
  }
  return gfi_plan_finish(p, out, err);
}

gf_status gf_plan_sort(const gf_plan *in, const gf_sort_key *keys, int nkeys, gf_plan **out,
                       gf_error *err) {
  if (!in || !out || nkeys < 1 || !keys) return gf_error_set(err, GF_EINVAL, "gf_plan_sort: invalid argument");
  for (int i = 0; i < nkeys; i++)
    if (!keys[i].column) return gf_error_set(err, GF_EINVAL, "gf_plan_sort: key %d has no column", i);
  gf_plan *p = unary(GF_PLAN_SORT, in);
  if (p) p->keys = gfi_calloc(NULL, sizeof *p->keys * (size_t)nkeys);
  if (!p || !p->keys) {
    gf_plan_release(p);
    return GF_OOM(err, "plan node");
  }
  p->nkeys = nkeys;
  bool ok = true;
  for (int i = 0; i < nkeys; i++) {
    p->keys[i] = keys[i];
    p->keys[i].column = gfi_plan_strdup(keys[i].column);
    if (!p->keys[i].column) ok = false;
  }
  if (!ok) {
    gf_plan_release(p);
    return GF_OOM(err, "plan node");
  }
  return gfi_plan_finish(p, out, err);
}

gf_status gf_plan_limit(const gf_plan *in, int64_t offset, int64_t n, gf_plan **out, gf_error *err) {
  if (!in || !out || offset < 0 || n < 0)
    return gf_error_set(err, GF_EINVAL, "gf_plan_limit: invalid argument (offset %lld, n %lld)",
                        (long long)offset, (long long)n);
  gf_plan *p = unary(GF_PLAN_LIMIT, in);
  if (!p) return GF_OOM(err, "plan node");
  p->offset = offset;
  p->count = n;
  return gfi_plan_finish(p, out, err);
}

gf_status gf_plan_distinct(const gf_plan *in, const char *const *keys, int nkeys, gf_plan **out,
                           gf_error *err) {
  gf_plan *p = NULL;
  GF_RETURN_NOT_OK(names_node(GF_PLAN_DISTINCT, in, "gf_plan_distinct", keys, nkeys, &p, err));
  return gfi_plan_finish(p, out, err);
}

gf_status gf_plan_union(const gf_plan *a, const gf_plan *b, gf_plan **out, gf_error *err) {
  if (!a || !b || !out) return gf_error_set(err, GF_EINVAL, "gf_plan_union: NULL argument");
  gf_plan *p = unary(GF_PLAN_UNION, a);
  if (!p) return GF_OOM(err, "plan node");
  gfi_plan_set_input(p, 1, b);
  return gfi_plan_finish(p, out, err);
}
