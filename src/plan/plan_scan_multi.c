/*
 * The multi-file plan source (include/gopherframe/files.h): many files,
 * expanded from globs and directories, read as one frame with columns
 * united by name, an optional filename column and Hive partition columns;
 * a pushed predicate prunes files on their partition values before any is
 * opened.
 *
 * Each file keeps its own CSV / IPC scan node (plan_build.c), which holds
 * the deep-copied read options and the file's sampled schema; the run
 * reads the files through the single per-file dispatch
 * (gfi_read_one_file), concurrently when they are small, and brings each
 * to the united schema before concatenating them in path order, so the
 * rows are the same for any worker count.
 */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "gopherframe/json.h"
#include "io/multi_internal.h"
#include "plan/plan_internal.h"

#define DEFAULT_SMALL_FILE_BYTES ((int64_t)8 << 20)

struct gfi_files_src {
  gfi_refcount ref;
  int n;                   /* files */
  char **paths;            /* as expanded */
  gf_plan **scans;         /* per file: its CSV or IPC scan (options, sampled schema) */
  int64_t *sizes;          /* bytes, when the source was built */
  gf_scan_format format;
  char *filename_column;   /* or NULL */
  int nhive;
  char **hive_keys;
  gf_datatype *hive_types;
  char **hive_vals;        /* n * nhive values; NULL = null */
  int nfilecols;           /* the source schema's first nfilecols columns come from files */
  int64_t small_file_bytes;
  int64_t max_rows;        /* 0 = all */
};

void gfi_files_src_retain(gfi_files_src *s) {
  if (s) gfi_ref_inc(&s->ref);
}

static void str_free(char *s) {
  if (s) gfi_plan_strfree(s);
}

void gfi_files_src_release(gfi_files_src *s) {
  if (!s || !gfi_ref_dec(&s->ref)) return;
  if (s->scans) {
    for (int i = 0; i < s->n; i++) gf_plan_release(s->scans[i]);
    gfi_mfree(NULL, s->scans, sizeof *s->scans * (size_t)s->n);
  }
  if (s->paths) gfi_plan_names_free(s->paths, s->n);
  if (s->sizes) gfi_mfree(NULL, s->sizes, sizeof *s->sizes * (size_t)s->n);
  str_free(s->filename_column);
  if (s->hive_keys) gfi_plan_names_free(s->hive_keys, s->nhive);
  if (s->hive_types) gfi_mfree(NULL, s->hive_types, sizeof *s->hive_types * (size_t)s->nhive);
  if (s->hive_vals) {
    size_t nv = (size_t)s->n * (size_t)s->nhive;
    for (size_t i = 0; i < nv; i++) str_free(s->hive_vals[i]);
    gfi_mfree(NULL, s->hive_vals, sizeof *s->hive_vals * (nv > 0 ? nv : 1));
  }
  gfi_mfree(NULL, s, sizeof *s);
}

void gf_scan_files_options_init(gf_scan_files_options *o) {
  if (!o) return;
  memset(o, 0, sizeof *o);
  o->size = sizeof *o;
}

/* ---- types ---------------------------------------------------------------- */

static bool is_int(gf_type_id t) {
  return t == GF_TYPE_INT8 || t == GF_TYPE_INT16 || t == GF_TYPE_INT32 || t == GF_TYPE_INT64 ||
         t == GF_TYPE_UINT8 || t == GF_TYPE_UINT16 || t == GF_TYPE_UINT32;
}
static bool is_float(gf_type_id t) { return t == GF_TYPE_FLOAT32 || t == GF_TYPE_FLOAT64; }
static bool is_text(gf_datatype t) {
  return t.id == GF_TYPE_UTF8 || t.id == GF_TYPE_LARGE_UTF8 ||
         (t.id == GF_TYPE_DICTIONARY && t.value_id == GF_TYPE_UTF8);
}

/* The type two files' columns of types a and b unite to, as the CSV
 * reader widens: integers -> int64, integers and floats -> float64, text
 * (utf8, a dictionary of utf8) with anything -> utf8; false when none. */
static bool unite(gf_datatype a, gf_datatype b, gf_datatype *out) {
  if (gf_type_equals(a, b)) {
    *out = a;
    return true;
  }
  if (is_int(a.id) && is_int(b.id)) {
    *out = gf_type(GF_TYPE_INT64);
    return true;
  }
  if ((is_int(a.id) || is_float(a.id)) && (is_int(b.id) || is_float(b.id))) {
    *out = gf_type(GF_TYPE_FLOAT64);
    return true;
  }
  if (is_text(a) || is_text(b)) {
    *out = gf_type(GF_TYPE_UTF8);
    return true;
  }
  return false;
}

static gf_status no_common_type(const char *col, gf_datatype ta, const char *fa, gf_datatype tb,
                                const char *fb, gf_error *err) {
  char a[64], b[64];
  return gf_error_set(err, GF_ETYPE,
                      "column '%.200s' is %s in '%.300s' but %s in '%.300s': no common type "
                      "(integers and floats widen to float64, anything with text to utf8); "
                      "read the files separately or pin the column's type",
                      col, gf_type_format(ta, a, sizeof a), fa, gf_type_format(tb, b, sizeof b), fb);
}

/* ---- building --------------------------------------------------------------- */

/* The per-file scan of `path` (its schema read now under `build`). */
static gf_status file_scan(const char *path, const gf_scan_files_options *o, int64_t sample_rows,
                           const gf_parallel_options *build, gf_plan **out, gf_error *err) {
  /* The schema is read by the same readers gfi_read_one_file uses (the
   * sample of the CSV scan, the IPC metadata): a dispatch that learns a
   * format must learn it here too. */
  gfi_file_kind kind;
  GF_RETURN_NOT_OK(gfi_file_kind_of(path, o->format, &kind, err));
  if (kind == GFI_FILE_IPC) return gf_plan_scan_ipc_with(path, o->ipc, build, out, err);
  if (kind == GFI_FILE_PARQUET) return gf_plan_scan_parquet_with(path, NULL, build, out, err);
  if (kind == GFI_FILE_JSON) {
    /* JSON types come from every value: the file is read whole for its
     * schema (and again by the run, through gfi_read_one_file). */
    gf_json_read_options jo;
    gf_json_read_options_init(&jo);
    jo.parallel = build;
    gf_frame *f = NULL;
    GF_RETURN_NOT_OK(gf_read_json(path, &jo, &f, err));
    gf_plan *p = gfi_plan_alloc(GF_PLAN_FRAME);
    if (!p) {
      gf_frame_release(f);
      return GF_OOM(err, "files source");
    }
    /* Only the schema is kept: an empty frame of it. */
    gf_frame *e = NULL;
    gf_status st = gfi_plan_empty_frame(gf_frame_schema(f), &e, err);
    gf_frame_release(f);
    if (st != GF_OK) {
      gf_plan_release(p);
      return st;
    }
    p->frame = e;
    p->src_schema = gf_schema_retain(gf_frame_schema(e));
    return gfi_plan_finish(p, out, err);
  }
  gf_csv_read_options co;
  if (o->csv) {
    gf_csv_read_options_init(&co);
    memcpy(&co, o->csv, o->csv->size && o->csv->size < sizeof co ? o->csv->size : sizeof co);
  } else {
    gf_csv_read_options_init(&co);
  }
  co.size = sizeof co;
  co.columns = NULL;
  co.num_columns = 0;
  /* The scan samples at most max_rows rows; reads reset it to 0. */
  co.max_rows = sample_rows;
  co.parallel = NULL;
  return gf_plan_scan_csv_with(path, &co, build, out, err);
}

/* Rows sampled per CSV file for the planned schema: the single-file
 * sample split over the files (at least 256 each). The planned types
 * only check the plan: the run unites the types actually read and the
 * executor checks the plan again against them. */
static int64_t sample_rows(int nfiles) {
  int64_t r = (int64_t)GF_PLAN_CSV_SAMPLE_ROWS * 4 / (nfiles > 0 ? nfiles : 1);
  if (r < 256) r = 256;
  if (r > GF_PLAN_CSV_SAMPLE_ROWS) r = GF_PLAN_CSV_SAMPLE_ROWS;
  return r;
}

/* Building the per-file scans, concurrently (one worker per file). */
typedef struct scanjob {
  gfi_files_src *s;
  const gf_scan_files_options *o;
  gf_parallel_options one;
  int64_t sample;
  gf_status *st;
  gf_error *errs;
  atomic_int first_bad;
} scanjob;

static gf_status scan_kernel(void *user, const gf_chunk_spec *chunk, gf_task_ctx *ctx) {
  scanjob *j = user;
  int i = (int)chunk->chunk_id;
  if (i > atomic_load(&j->first_bad)) return GF_OK;
  gf_parallel_options b = j->one;
  b.allocator = ctx->allocator;
  gf_error_clear(&j->errs[i]);
  j->st[i] = file_scan(j->s->paths[i], j->o, j->sample, &b, &j->s->scans[i], &j->errs[i]);
  if (j->st[i] != GF_OK) {
    int cur = atomic_load(&j->first_bad);
    while (i < cur && !atomic_compare_exchange_weak(&j->first_bad, &cur, i)) {
    }
  }
  return GF_OK;
}

/* Every file's scan (schema read now); the first failure in path order
 * is reported whatever the worker count. */
static gf_status build_scans(gfi_files_src *s, const gf_scan_files_options *o,
                             const gf_parallel_options *build, gf_error *err) {
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  if (build) memcpy(&po, build, build->size && build->size < sizeof po ? build->size : sizeof po);
  po.size = sizeof po;
  po.stats = NULL;
  int64_t sample = sample_rows(s->n);
  if (s->n == 1 || gf_effective_workers(&po) == 1) {
    for (int i = 0; i < s->n; i++)
      GF_RETURN_NOT_OK(file_scan(s->paths[i], o, sample, &po, &s->scans[i], err));
    return GF_OK;
  }
  scanjob j;
  memset(&j, 0, sizeof j);
  j.s = s;
  j.o = o;
  j.one = po;
  j.one.num_workers = 1;
  j.sample = sample;
  j.st = gfi_calloc(NULL, sizeof *j.st * (size_t)s->n);
  j.errs = gfi_calloc(NULL, sizeof *j.errs * (size_t)s->n);
  gf_chunk_spec *ch = gfi_calloc(NULL, sizeof *ch * (size_t)s->n);
  atomic_init(&j.first_bad, s->n);
  gf_status st = j.st && j.errs && ch ? GF_OK : GF_OOM(err, "files source");
  for (int i = 0; i < s->n && st == GF_OK; i++) ch[i] = (gf_chunk_spec){i, i + 1, i};
  if (st == GF_OK) st = gf_run_chunks(ch, s->n, scan_kernel, &j, &po, err);
  int bad = atomic_load(&j.first_bad);
  if (st == GF_OK && bad < s->n) {
    st = j.st[bad];
    gf_error_set(err, st, "%s", j.errs[bad].message);
  }
  if (j.st) gfi_mfree(NULL, j.st, sizeof *j.st * (size_t)s->n);
  if (j.errs) gfi_mfree(NULL, j.errs, sizeof *j.errs * (size_t)s->n);
  if (ch) gfi_mfree(NULL, ch, sizeof *ch * (size_t)s->n);
  return st;
}

/* Hive keys of every file: `nk` and the keys/values when every file has
 * the same list (mode AUTO), or an error when they differ (ON). */
static gf_status hive_columns(gfi_files_src *s, gf_hive_mode mode, gf_error *err) {
  if (mode == GF_HIVE_OFF) return GF_OK;
  gfi_hive_kv **kv = gfi_calloc(NULL, sizeof *kv * (size_t)s->n);
  int *nkv = gfi_calloc(NULL, sizeof *nkv * (size_t)s->n);
  gf_status st = kv && nkv ? GF_OK : GF_OOM(err, "partition values");
  for (int i = 0; i < s->n && st == GF_OK; i++) st = gfi_hive_parse(s->paths[i], &kv[i], &nkv[i], err);
  bool same = st == GF_OK && nkv[0] > 0;
  int differ = -1;
  for (int i = 1; i < s->n && same; i++) {
    if (nkv[i] != nkv[0]) same = false;
    for (int k = 0; k < nkv[0] && same; k++)
      if (strcmp(kv[i][k].key, kv[0][k].key) != 0) same = false;
    if (!same) differ = i;
  }
  if (st == GF_OK && mode == GF_HIVE_ON && !same) {
    if (nkv[0] == 0)
      st = gf_error_set(err, GF_EINVAL,
                        "hive partitioning: '%.300s' has no key=value directory (turn hive "
                        "partitioning off or auto)",
                        s->paths[0]);
    else
      st = gf_error_set(err, GF_EINVAL,
                        "hive partitioning: '%.300s' has other key=value directories than "
                        "'%.300s' (every file needs the same keys in the same order)",
                        s->paths[differ], s->paths[0]);
  }
  if (st == GF_OK && same) {
    int nk = nkv[0];
    char **keys = gfi_calloc(NULL, sizeof *keys * (size_t)nk);
    gf_datatype *types = gfi_calloc(NULL, sizeof *types * (size_t)nk);
    char **vals = gfi_calloc(NULL, sizeof *vals * (size_t)nk * (size_t)s->n);
    const char **col = gfi_calloc(NULL, sizeof *col * (size_t)s->n);
    if (!keys || !types || !vals || !col) {
      st = GF_OOM(err, "partition values");
      if (keys) gfi_mfree(NULL, keys, sizeof *keys * (size_t)nk);
      if (types) gfi_mfree(NULL, types, sizeof *types * (size_t)nk);
      if (vals) gfi_mfree(NULL, vals, sizeof *vals * (size_t)nk * (size_t)s->n);
    } else {
      /* Owned by the source from here (freed with it, nhive entries). */
      s->hive_keys = keys;
      s->hive_types = types;
      s->hive_vals = vals;
      s->nhive = nk;
    }
    for (int k = 0; k < nk && st == GF_OK; k++) {
      s->hive_keys[k] = gfi_plan_strdup(kv[0][k].key);
      if (!s->hive_keys[k]) st = GF_OOM(err, "partition values");
      for (int i = 0; i < s->n && st == GF_OK; i++) {
        col[i] = kv[i][k].value;
        if (col[i]) {
          s->hive_vals[(size_t)i * (size_t)nk + (size_t)k] = gfi_plan_strdup(col[i]);
          if (!s->hive_vals[(size_t)i * (size_t)nk + (size_t)k]) st = GF_OOM(err, "partition values");
        }
      }
      if (st == GF_OK) s->hive_types[k] = gfi_hive_infer(col, s->n);
    }
    if (col) gfi_mfree(NULL, (void *)col, sizeof *col * (size_t)s->n);
  }
  if (kv) {
    for (int i = 0; i < s->n; i++) gfi_hive_kv_free(kv[i], nkv[i]);
    gfi_mfree(NULL, kv, sizeof *kv * (size_t)s->n);
  }
  if (nkv) gfi_mfree(NULL, nkv, sizeof *nkv * (size_t)s->n);
  return st;
}

/* The source schema: the files' columns united by name (first appearance
 * order), the filename column, the Hive columns; all nullable. */
static gf_status united_schema(gfi_files_src *s, gf_schema **out, gf_error *err) {
  int cap = 16, n = 0;
  gf_field *f = gfi_calloc(NULL, sizeof *f * (size_t)cap);
  int *from = gfi_calloc(NULL, sizeof *from * (size_t)cap); /* file that gave the type */
  gf_status st = f && from ? GF_OK : GF_OOM(err, "schema");
  for (int i = 0; i < s->n && st == GF_OK; i++) {
    const gf_schema *fs = gf_plan_schema(s->scans[i]);
    for (int c = 0; c < gf_schema_num_fields(fs) && st == GF_OK; c++) {
      const gf_field *fd = gf_schema_field(fs, c);
      int j = 0;
      while (j < n && strcmp(f[j].name, fd->name) != 0) j++;
      if (j < n) {
        gf_datatype t;
        if (!unite(f[j].type, fd->type, &t))
          st = no_common_type(fd->name, f[j].type, s->paths[from[j]], fd->type, s->paths[i], err);
        else if (!gf_type_equals(t, f[j].type)) {
          f[j].type = t;
          from[j] = i;
        }
        continue;
      }
      if (n == cap) {
        gf_field *nf = gfi_calloc(NULL, sizeof *nf * (size_t)cap * 2);
        int *nfr = gfi_calloc(NULL, sizeof *nfr * (size_t)cap * 2);
        if (!nf || !nfr) {
          if (nf) gfi_mfree(NULL, nf, sizeof *nf * (size_t)cap * 2);
          if (nfr) gfi_mfree(NULL, nfr, sizeof *nfr * (size_t)cap * 2);
          st = GF_OOM(err, "schema");
          break;
        }
        memcpy(nf, f, sizeof *f * (size_t)n);
        memcpy(nfr, from, sizeof *from * (size_t)n);
        gfi_mfree(NULL, f, sizeof *f * (size_t)cap);
        gfi_mfree(NULL, from, sizeof *from * (size_t)cap);
        f = nf;
        from = nfr;
        cap *= 2;
      }
      f[n] = *fd;
      f[n].nullable = true;
      from[n++] = i;
    }
  }
  /* A dictionary column some file lacks is utf8: its rows from that file
   * are nulls, which a dictionary column cannot be cast from. */
  for (int j = 0; j < n && st == GF_OK; j++) {
    if (f[j].type.id != GF_TYPE_DICTIONARY) continue;
    for (int i = 0; i < s->n; i++)
      if (gf_schema_find(gf_plan_schema(s->scans[i]), f[j].name) < 0) {
        f[j].type = gf_type(GF_TYPE_UTF8);
        break;
      }
  }
  int extra = (s->filename_column ? 1 : 0) + s->nhive;
  gf_field *all = NULL;
  if (st == GF_OK) {
    all = gfi_calloc(NULL, sizeof *all * (size_t)(n + extra + 1));
    if (!all) st = GF_OOM(err, "schema");
  }
  if (st == GF_OK) {
    memcpy(all, f, sizeof *f * (size_t)n);
    int k = n;
    const char *clash = NULL;
    if (s->filename_column) all[k++] = (gf_field){s->filename_column, gf_type(GF_TYPE_UTF8), true};
    for (int h = 0; h < s->nhive; h++) all[k++] = (gf_field){s->hive_keys[h], s->hive_types[h], true};
    for (int a = 0; a < k && !clash; a++)
      for (int b = a + 1; b < k && !clash; b++)
        if (strcmp(all[a].name, all[b].name) == 0) clash = all[a].name;
    if (clash)
      st = gf_error_set(err, GF_EINVAL,
                        "column '%.200s' is both %s: rename the filename column or turn hive "
                        "partitioning off",
                        clash,
                        s->filename_column && strcmp(clash, s->filename_column) == 0
                            ? "the filename column and a column of the files (or a partition key)"
                            : "a partition key (key=value directory) and a column of the files");
    s->nfilecols = n;
    if (st == GF_OK) st = gf_schema_new(all, k, out, err);
  }
  if (all) gfi_mfree(NULL, all, sizeof *all * (size_t)(n + extra + 1));
  if (f) gfi_mfree(NULL, f, sizeof *f * (size_t)cap);
  if (from) gfi_mfree(NULL, from, sizeof *from * (size_t)cap);
  return st;
}

gf_status gf_plan_scan_files(const char *const *patterns, int n, const gf_scan_files_options *o,
                             const gf_parallel_options *build, gf_plan **out, gf_error *err) {
  if (!out) return gf_error_set(err, GF_EINVAL, "gf_plan_scan_files: NULL argument");
  gf_scan_files_options fo;
  gf_scan_files_options_init(&fo);
  if (o) memcpy(&fo, o, o->size && o->size < sizeof fo ? o->size : sizeof fo);
  fo.size = sizeof fo;
  char **paths = NULL;
  int np = 0;
  GF_RETURN_NOT_OK(gf_expand_paths(patterns, n, &paths, &np, err));
  gf_plan *p = gfi_plan_alloc(GF_PLAN_FILES);
  gfi_files_src *s = gfi_calloc(NULL, sizeof *s);
  if (!p || !s) {
    gf_mem_free(paths);
    if (s) gfi_mfree(NULL, s, sizeof *s);
    gf_plan_release(p);
    return GF_OOM(err, "files source");
  }
  gfi_ref_init(&s->ref);
  p->files = s;
  s->n = np; /* set with the arrays below */
  s->format = fo.format;
  s->small_file_bytes = fo.small_file_bytes ? fo.small_file_bytes : DEFAULT_SMALL_FILE_BYTES;
  s->max_rows = fo.max_rows > 0 ? fo.max_rows : 0;
  char **names = gfi_plan_names_copy((const char *const *)paths, np);
  gf_mem_free(paths);
  gf_plan **scans = gfi_calloc(NULL, sizeof *scans * (size_t)np);
  int64_t *sizes = gfi_calloc(NULL, sizeof *sizes * (size_t)np);
  if (!names || !scans || !sizes) {
    if (names) gfi_plan_names_free(names, np);
    if (scans) gfi_mfree(NULL, scans, sizeof *scans * (size_t)np);
    if (sizes) gfi_mfree(NULL, sizes, sizeof *sizes * (size_t)np);
    s->n = 0;
    gf_plan_release(p);
    return GF_OOM(err, "files source");
  }
  s->paths = names;
  s->scans = scans;
  s->sizes = sizes;
  gf_status st = GF_OK;
  if (st == GF_OK && fo.filename_column) {
    s->filename_column = gfi_plan_strdup(fo.filename_column);
    if (!s->filename_column) st = GF_OOM(err, "files source");
  }
  for (int i = 0; i < np && st == GF_OK; i++) {
    if (strcmp(s->paths[i], "-") == 0) {
      st = gf_error_set(err, GF_EINVAL,
                        "'-' (standard input) cannot be one of several inputs: read it on its own");
      break;
    }
    struct stat sb;
    bool found = stat(s->paths[i], &sb) == 0; /* when not, the reader reports it */
    if (found && !S_ISREG(sb.st_mode))
      st = gf_error_set(err, GF_EINVAL,
                        "%s: not a regular file (a multi-file scan reads files; read a pipe or "
                        "device on its own)",
                        s->paths[i]);
    else if (found)
      s->sizes[i] = (int64_t)sb.st_size;
  }
  if (st == GF_OK) st = build_scans(s, &fo, build, err);
  if (st == GF_OK) st = hive_columns(s, fo.hive, err);
  if (st == GF_OK) st = united_schema(s, &p->src_schema, err);
  if (st != GF_OK) {
    gf_plan_release(p);
    return st;
  }
  return gfi_plan_finish(p, out, err);
}

gf_status gf_read_files(const char *const *patterns, int n, const gf_scan_files_options *o,
                        const gf_parallel_options *parallel, gf_frame **out, gf_error *err) {
  gf_plan *p = NULL;
  GF_RETURN_NOT_OK(gf_plan_scan_files(patterns, n, o, parallel, &p, err));
  gf_plan_options po;
  gf_plan_options_init(&po);
  po.parallel = parallel;
  gf_status st = gf_plan_collect(p, &po, out, err);
  gf_plan_release(p);
  return st;
}

/* ---- pruning ---------------------------------------------------------------- */

/* keep[i] = false for the files the pushed predicate's conjuncts over
 * partition and filename columns alone rule out (false or null). */
static gf_status prune(const gf_plan *p, bool *keep, int *npruned, gf_error *err) {
  const gfi_files_src *s = p->files;
  for (int i = 0; i < s->n; i++) keep[i] = true;
  *npruned = 0;
  if (!p->pred || (s->nhive == 0 && !s->filename_column)) return GF_OK;
  gfi_nameset allowed = {0};
  gfi_exprvec all = {0}, mine = {0};
  gf_status st = GF_OK;
  if (s->filename_column) st = gfi_nameset_add(&allowed, s->filename_column, err);
  for (int k = 0; k < s->nhive && st == GF_OK; k++) st = gfi_nameset_add(&allowed, s->hive_keys[k], err);
  if (st == GF_OK) st = gfi_conjuncts(p->pred, &all, err);
  for (int i = 0; i < all.n && st == GF_OK; i++) {
    bool yes = false;
    st = gfi_expr_reads_only(all.v[i], &allowed, &yes, err);
    if (st == GF_OK && yes) st = gfi_exprvec_push(&mine, all.v[i], err);
  }
  gf_frame *vals = NULL, *typed = NULL, *hit = NULL;
  int ncol = (s->filename_column ? 1 : 0) + s->nhive + 1;
  gf_field *fields = NULL;
  gf_array **cols = NULL;
  const char *idx_name = "__gf_file_index";
  if (st == GF_OK && mine.n > 0) {
    fields = gfi_calloc(NULL, sizeof *fields * (size_t)ncol);
    cols = gfi_calloc(NULL, sizeof *cols * (size_t)ncol);
    if (!fields || !cols) st = GF_OOM(err, "partition pruning");
    /* One row per file: the values as text, then cast to their types. */
    for (int c = 0; c < ncol && st == GF_OK; c++) {
      bool is_idx = c == ncol - 1, is_fn = s->filename_column && c == 0;
      int h = c - (s->filename_column ? 1 : 0);
      gf_builder *b = NULL;
      st = gf_builder_new(gf_type(is_idx ? GF_TYPE_INT64 : GF_TYPE_UTF8), NULL, &b, err);
      for (int i = 0; i < s->n && st == GF_OK; i++) {
        if (is_idx) st = gf_builder_append_int64(b, i, err);
        else if (is_fn) st = gf_builder_append_string(b, s->paths[i], err);
        else {
          const char *v = s->hive_vals[(size_t)i * (size_t)s->nhive + (size_t)h];
          st = v ? gf_builder_append_string(b, v, err) : gf_builder_append_null(b, err);
        }
      }
      if (st == GF_OK) st = gf_builder_finish(b, &cols[c], err);
      gf_builder_free(b);
      fields[c] = (gf_field){is_idx ? idx_name : is_fn ? s->filename_column : s->hive_keys[h],
                             gf_type(is_idx ? GF_TYPE_INT64 : GF_TYPE_UTF8), true};
    }
    gf_schema *sc = NULL;
    if (st == GF_OK) st = gf_schema_new(fields, ncol, &sc, err);
    if (st == GF_OK) st = gf_frame_new(sc, cols, 1, NULL, &vals, err);
    gf_schema_release(sc);
    /* Typed as the scan types them. */
    const char **wn = gfi_calloc(NULL, sizeof *wn * (size_t)(s->nhive + 1));
    gf_expr **we = gfi_calloc(NULL, sizeof *we * (size_t)(s->nhive + 1));
    int k = 0;
    if (st == GF_OK && (!wn || !we)) st = GF_OOM(err, "partition pruning");
    for (int h = 0; h < s->nhive && st == GF_OK; h++) {
      if (s->hive_types[h].id == GF_TYPE_UTF8) continue;
      gf_expr *c = gf_col(s->hive_keys[h]);
      we[k] = c ? gf_cast(c, s->hive_types[h]) : NULL;
      wn[k] = s->hive_keys[h];
      if (!we[k++]) st = GF_OOM(err, "partition pruning");
    }
    if (st == GF_OK) {
      if (k > 0) st = gf_with_columns(vals, wn, we, k, NULL, &typed, err);
      else typed = gf_frame_retain(vals);
    }
    for (int i = 0; i < k; i++) gf_expr_release(we[i]);
    if (wn) gfi_mfree(NULL, (void *)wn, sizeof *wn * (size_t)(s->nhive + 1));
    if (we) gfi_mfree(NULL, we, sizeof *we * (size_t)(s->nhive + 1));
    gf_expr *conj = st == GF_OK ? gfi_and_all(mine.v, mine.n) : NULL;
    if (st == GF_OK && !conj) st = GF_OOM(err, "partition pruning");
    if (st == GF_OK) st = gf_filter(typed, conj, NULL, &hit, err);
    gf_expr_release(conj);
    if (st == GF_OK) {
      for (int i = 0; i < s->n; i++) keep[i] = false;
      int ic = gf_schema_find(gf_frame_schema(hit), idx_name);
      for (int b = 0; b < gf_frame_num_batches(hit); b++) {
        const gf_array *a = gf_frame_column(hit, b, ic);
        for (int64_t r = 0; r < gf_array_length(a); r++) keep[gf_array_get_int64(a, r)] = true;
      }
      for (int i = 0; i < s->n; i++)
        if (!keep[i]) ++*npruned;
    }
  }
  if (cols) {
    for (int c = 0; c < ncol; c++) gf_array_release(cols[c]);
    gfi_mfree(NULL, cols, sizeof *cols * (size_t)ncol);
  }
  if (fields) gfi_mfree(NULL, fields, sizeof *fields * (size_t)ncol);
  gf_frame_release(vals);
  gf_frame_release(typed);
  gf_frame_release(hit);
  gfi_exprvec_free(&all);
  gfi_exprvec_free(&mine);
  gfi_nameset_free(&allowed);
  return st;
}

gf_status gf_plan_files_pruned(const gf_plan *p, int *nfiles, int *npruned, gf_error *err) {
  if (!p || p->kind != GF_PLAN_FILES || !nfiles || !npruned)
    return gf_error_set(err, GF_EINVAL, "gf_plan_files_pruned: not a scan_files source");
  bool *keep = gfi_calloc(NULL, (size_t)p->files->n);
  if (!keep) return GF_OOM(err, "partition pruning");
  gf_status st = prune(p, keep, npruned, err);
  gfi_mfree(NULL, keep, (size_t)p->files->n);
  if (st == GF_OK) *nfiles = p->files->n;
  return st;
}

char *gfi_files_explain(const gf_plan *p) {
  const gfi_files_src *s = p->files;
  bool *keep = gfi_calloc(NULL, (size_t)s->n);
  int pruned = 0;
  gf_error e;
  gf_error_clear(&e);
  bool pruned_ok = keep && prune(p, keep, &pruned, &e) == GF_OK;
  if (keep) gfi_mfree(NULL, keep, (size_t)s->n);
  size_t len = 96 + strlen(s->paths[0]) + strlen(s->paths[s->n - 1]) +
               (s->filename_column ? strlen(s->filename_column) + 24 : 0);
  for (int k = 0; k < s->nhive; k++) len += strlen(s->hive_keys[k]) + 2;
  char *t = gfi_owned_alloc(NULL, len);
  if (!t) return NULL;
  size_t o = 0;
  o += (size_t)snprintf(t + o, len - o, " \"%s\"", s->paths[0]);
  if (s->n > 1) o += (size_t)snprintf(t + o, len - o, " .. \"%s\"", s->paths[s->n - 1]);
  o += (size_t)snprintf(t + o, len - o, " files=%d", s->n);
  if (p->pred && pruned_ok) o += (size_t)snprintf(t + o, len - o, " pruned=%d", pruned);
  if (s->filename_column) o += (size_t)snprintf(t + o, len - o, " filename_column=%s", s->filename_column);
  if (s->nhive > 0) {
    o += (size_t)snprintf(t + o, len - o, " hive=[");
    for (int k = 0; k < s->nhive; k++)
      o += (size_t)snprintf(t + o, len - o, "%s%s", k ? ", " : "", s->hive_keys[k]);
    snprintf(t + o, len - o, "]");
  }
  return t;
}

/* ---- reading ------------------------------------------------------------------ */

/* What one file is read with. */
typedef struct fileread {
  const gfi_files_src *s;
  const int *idx;              /* kept files, in path order */
  const char *const *const *cols; /* per kept file: the columns to read */
  const int *ncols;
  gf_frame **parts;
  gf_status *st;
  gf_error *errs;
  atomic_int first_bad;        /* lowest kept position that failed */
  gf_parallel_options one;     /* a single worker per file */
} fileread;

static gf_status read_at(const gfi_files_src *s, int f, const char *const *cols, int ncols,
                         int64_t max_rows, const gf_parallel_options *o, gf_frame **out,
                         gf_error *err) {
  const gf_plan *sc = s->scans[f];
  gf_csv_read_options co;
  if (sc->csv) {
    co = sc->csv->o;
    co.max_rows = max_rows; /* the scan's was the sample's */
  }
  const gf_ipc_read_options *io = sc->ipc ? &sc->ipc->o : NULL;
  return gfi_read_one_file(s->paths[f], s->format, sc->csv ? &co : NULL, io, cols, ncols, o, out, err);
}

/* Chunk kernel: reads file idx[chunk->chunk_id] on one worker. */
static gf_status read_kernel(void *user, const gf_chunk_spec *chunk, gf_task_ctx *ctx) {
  fileread *r = user;
  int k = (int)chunk->chunk_id;
  if (k > atomic_load(&r->first_bad)) return GF_OK; /* an earlier file failed */
  gf_parallel_options o = r->one;
  o.allocator = ctx->allocator;
  gf_error_clear(&r->errs[k]);
  r->st[k] = read_at(r->s, r->idx[k], r->cols[k], r->ncols[k], 0, &o, &r->parts[k], &r->errs[k]);
  if (r->st[k] != GF_OK) {
    int cur = atomic_load(&r->first_bad);
    while (k < cur && !atomic_compare_exchange_weak(&r->first_bad, &cur, k)) {
    }
  }
  return GF_OK;
}

/* The columns of file f's sampled schema that `need` names, in file
 * order; when none, its first column (for the row count). */
static gf_status file_columns(const gfi_files_src *s, int f, const gf_schema *target,
                              const char ***out, int *n, gf_error *err) {
  const gf_schema *fs = gf_plan_schema(s->scans[f]);
  int nf = gf_schema_num_fields(fs), k = 0;
  const char **v = gfi_calloc(NULL, sizeof *v * (size_t)(nf > 0 ? nf : 1));
  if (!v) return GF_OOM(err, "files source");
  for (int c = 0; c < nf; c++)
    if (gf_schema_find(target, gf_schema_field(fs, c)->name) >= 0) v[k++] = gf_schema_field(fs, c)->name;
  if (k == 0 && nf > 0) v[k++] = gf_schema_field(fs, 0)->name;
  *out = v;
  *n = k;
  return GF_OK;
}

/* A frame with f's arrays under `schema` (differing only in nullability). */
static gf_status reschema(const gf_frame *f, const gf_schema *schema, const gf_allocator *a,
                          gf_frame **out, gf_error *err) {
  int nb = gf_frame_num_batches(f), nc = gf_frame_num_columns(f);
  size_t n = (size_t)(nb > 0 ? nb : 1) * (size_t)(nc > 0 ? nc : 1);
  gf_array **cols = gfi_malloc(NULL, sizeof *cols * n);
  if (!cols) return GF_OOM(err, "files source");
  for (int b = 0; b < nb; b++)
    for (int c = 0; c < nc; c++) cols[(size_t)b * (size_t)nc + (size_t)c] = gf_frame_column(f, b, c);
  gf_status st = gf_frame_new((gf_schema *)schema, cols, nb, a, out, err);
  gfi_mfree(NULL, cols, sizeof *cols * n);
  return st;
}

/* File f's frame (consumed) brought to `target`: columns cast to the
 * united types, missing ones null, the filename and Hive values added as
 * constants, in target order. */
static gf_status conform(const gfi_files_src *s, int f, gf_frame *part, const gf_schema *target,
                         const gf_parallel_options *o, gf_frame **out, gf_error *err) {
  int n = gf_schema_num_fields(target), k = 0;
  size_t cap = (size_t)(n > 0 ? n : 1);
  const char **names = gfi_calloc(NULL, sizeof *names * cap);
  const char **wn = gfi_calloc(NULL, sizeof *wn * cap);
  gf_expr **we = gfi_calloc(NULL, sizeof *we * cap);
  gf_status st = names && wn && we ? GF_OK : GF_OOM(err, "files source");
  const gf_schema *ps = gf_frame_schema(part);
  for (int i = 0; i < n && st == GF_OK; i++) {
    const gf_field *ft = gf_schema_field(target, i);
    names[i] = ft->name;
    gf_expr *e = NULL;
    int h = -1;
    for (int q = 0; q < s->nhive; q++)
      if (strcmp(s->hive_keys[q], ft->name) == 0) h = q;
    if (s->filename_column && strcmp(ft->name, s->filename_column) == 0) {
      e = gf_lit_string(s->paths[f]);
    } else if (h >= 0) {
      e = gfi_hive_literal(s->hive_vals[(size_t)f * (size_t)s->nhive + (size_t)h], ft->type);
    } else {
      int c = gf_schema_find(ps, ft->name);
      if (c >= 0 && gf_type_equals(gf_schema_field(ps, c)->type, ft->type)) continue;
      gf_expr *base = c >= 0 ? gf_col(ft->name) : gf_lit_null();
      e = base ? gf_cast(base, ft->type) : NULL;
    }
    if (!e) {
      st = GF_OOM(err, "files source");
      break;
    }
    wn[k] = ft->name;
    we[k++] = e;
  }
  gf_frame *w = NULL;
  if (st == GF_OK && k > 0) st = gf_with_columns(part, wn, we, k, o, &w, err);
  else if (st == GF_OK) w = gf_frame_retain(part);
  gf_frame *sel = NULL;
  if (st == GF_OK) st = gf_select(w, names, n, &sel, err);
  gf_frame_release(w);
  if (st == GF_OK && !gf_schema_equals(gf_frame_schema(sel), target)) {
    gf_frame *r = NULL;
    st = reschema(sel, target, o->allocator, &r, err);
    gf_frame_release(sel);
    sel = st == GF_OK ? r : NULL;
  }
  for (int i = 0; i < k; i++) gf_expr_release(we[i]);
  if (names) gfi_mfree(NULL, (void *)names, sizeof *names * cap);
  if (wn) gfi_mfree(NULL, (void *)wn, sizeof *wn * cap);
  if (we) gfi_mfree(NULL, we, sizeof *we * cap);
  gf_frame_release(part);
  if (st == GF_OK) *out = sel;
  return st;
}

/* Reads CSV file f again with the columns `utf8` (n) pinned to utf8 (on
 * top of the caller's own column_types), so their text stays as written
 * when another file makes the column text. */
static gf_status reread_as_text(const gfi_files_src *s, int f, const char *const *cols, int ncols,
                                const char *const *utf8, int n, int64_t max_rows,
                                const gf_parallel_options *o, gf_frame **out, gf_error *err) {
  gf_csv_read_options co = s->scans[f]->csv->o;
  co.max_rows = max_rows;
  int nt = co.column_types ? co.num_column_types : 0;
  gf_csv_column_type *t = gfi_calloc(NULL, sizeof *t * (size_t)(nt + n));
  if (!t) return GF_OOM(err, "files source");
  int k = 0;
  for (int i = 0; i < nt; i++) {
    bool pinned = false;
    for (int j = 0; j < n; j++)
      if (co.column_types[i].name && strcmp(co.column_types[i].name, utf8[j]) == 0) pinned = true;
    if (!pinned) t[k++] = co.column_types[i];
  }
  for (int j = 0; j < n; j++) t[k++] = (gf_csv_column_type){utf8[j], gf_type(GF_TYPE_UTF8)};
  co.column_types = t;
  co.num_column_types = k;
  gf_status st = gfi_read_one_file(s->paths[f], GF_SCAN_FORMAT_CSV, &co, NULL, cols, ncols, o, out, err);
  gfi_mfree(NULL, t, sizeof *t * (size_t)(nt + n));
  return st;
}

gf_status gfi_files_read(const gf_plan *p, const gf_parallel_options *o, gf_frame **out,
                         gf_error *err) {
  const gfi_files_src *s = p->files;
  int nf = s->n, nk = 0;
  bool *keep = gfi_calloc(NULL, (size_t)nf);
  int *idx = gfi_calloc(NULL, sizeof *idx * (size_t)nf);
  const char ***cols = gfi_calloc(NULL, sizeof *cols * (size_t)nf);
  int *ncols = gfi_calloc(NULL, sizeof *ncols * (size_t)nf);
  gf_frame **parts = gfi_calloc(NULL, sizeof *parts * (size_t)nf);
  gf_status *sts = gfi_calloc(NULL, sizeof *sts * (size_t)nf);
  gf_error *errs = gfi_calloc(NULL, sizeof *errs * (size_t)nf);
  gf_schema *target = NULL;
  gf_status st = keep && idx && cols && ncols && parts && sts && errs ? GF_OK : GF_OOM(err, "files source");
  int npruned = 0;
  if (st == GF_OK) st = prune(p, keep, &npruned, err);
  for (int i = 0; i < nf && st == GF_OK; i++)
    if (keep[i]) idx[nk++] = i;
  /* The columns delivered (projection applied), with their planned types. */
  gf_frame *e0 = NULL, *e1 = NULL;
  if (st == GF_OK) st = gfi_plan_empty_frame(p->src_schema, &e0, err);
  if (st == GF_OK && p->nproj >= 0) st = gf_select(e0, (const char *const *)p->proj, p->nproj, &e1, err);
  else if (st == GF_OK) e1 = gf_frame_retain(e0);
  if (st == GF_OK) target = gf_schema_retain(gf_frame_schema(e1));
  gf_frame_release(e0);
  gf_frame_release(e1);
  for (int k = 0; k < nk && st == GF_OK; k++) st = file_columns(s, idx[k], target, &cols[k], &ncols[k], err);
  /* Read: concurrently (a worker per file) when the files are small,
   * else one after another with every worker inside each. */
  int64_t bytes = 0;
  for (int k = 0; k < nk; k++) bytes += s->sizes[idx[k]];
  bool concurrent = nk > 1 && s->small_file_bytes > 0 && bytes / nk <= s->small_file_bytes &&
                    gf_effective_workers(o) > 1 && s->max_rows == 0;
  if (st == GF_OK && concurrent) {
    fileread r;
    memset(&r, 0, sizeof r);
    r.s = s;
    r.idx = idx;
    r.cols = (const char *const *const *)cols;
    r.ncols = ncols;
    r.parts = parts;
    r.st = sts;
    r.errs = errs;
    r.one = *o;
    atomic_init(&r.first_bad, nk);
    r.one.num_workers = 1;
    r.one.stats = NULL;
    gf_chunk_spec *ch = gfi_calloc(NULL, sizeof *ch * (size_t)nk);
    if (!ch) st = GF_OOM(err, "files source");
    for (int k = 0; k < nk && st == GF_OK; k++) ch[k] = (gf_chunk_spec){k, k + 1, k};
    gf_parallel_options ro = *o;
    ro.stats = NULL;
    if (st == GF_OK) st = gf_run_chunks(ch, nk, read_kernel, &r, &ro, err);
    if (ch) gfi_mfree(NULL, ch, sizeof *ch * (size_t)nk);
    int bad = atomic_load(&r.first_bad);
    if (st == GF_OK && bad < nk) {
      st = sts[bad];
      gf_error_set(err, st, "%s", errs[bad].message);
    }
  } else {
    int64_t got = 0;
    for (int k = 0; k < nk && st == GF_OK; k++) {
      if (s->max_rows > 0 && got >= s->max_rows) {
        nk = k; /* enough rows: the later files are not opened */
        break;
      }
      st = read_at(s, idx[k], cols[k], ncols[k], s->max_rows > 0 ? s->max_rows - got : 0, o, &parts[k], err);
      if (st == GF_OK) got += gf_frame_num_rows(parts[k]);
    }
  }
  /* The types read may be wider than the samples said: unite again. */
  int nt = target ? gf_schema_num_fields(target) : 0;
  gf_field *tf = NULL;
  int *from = NULL;
  if (st == GF_OK) {
    tf = gfi_calloc(NULL, sizeof *tf * (size_t)(nt > 0 ? nt : 1));
    from = gfi_calloc(NULL, sizeof *from * (size_t)(nt > 0 ? nt : 1));
    if (!tf || !from) st = GF_OOM(err, "files source");
  }
  for (int c = 0; c < nt && st == GF_OK; c++) {
    tf[c] = *gf_schema_field(target, c);
    from[c] = -1;
  }
  for (int k = 0; k < nk && st == GF_OK; k++) {
    const gf_schema *ps = gf_frame_schema(parts[k]);
    for (int c = 0; c < nt && st == GF_OK; c++) {
      int j = gf_schema_find(ps, tf[c].name);
      if (j < 0) continue;
      gf_datatype u, t = gf_schema_field(ps, j)->type;
      if (!unite(tf[c].type, t, &u))
        st = no_common_type(tf[c].name, tf[c].type, from[c] >= 0 ? s->paths[from[c]] : "the sampled rows",
                            t, s->paths[idx[k]], err);
      else if (!gf_type_equals(u, tf[c].type)) {
        tf[c].type = u;
        from[c] = idx[k];
      }
    }
  }
  /* As at build: a dictionary column a file lacks is utf8. */
  for (int c = 0; c < nt && st == GF_OK; c++) {
    if (tf[c].type.id != GF_TYPE_DICTIONARY) continue;
    for (int k = 0; k < nk; k++)
      if (gf_schema_find(gf_frame_schema(parts[k]), tf[c].name) < 0) {
        tf[c].type = gf_type(GF_TYPE_UTF8);
        break;
      }
  }
  gf_schema *united = NULL;
  if (st == GF_OK) st = gf_schema_new(tf, nt, &united, err);
  /* A CSV column that is text elsewhere is read again as text. */
  const char **txt = NULL;
  if (st == GF_OK) {
    txt = gfi_calloc(NULL, sizeof *txt * (size_t)(nt > 0 ? nt : 1));
    if (!txt) st = GF_OOM(err, "files source");
  }
  for (int k = 0; k < nk && st == GF_OK; k++) {
    if (!s->scans[idx[k]]->csv) continue;
    const gf_schema *ps = gf_frame_schema(parts[k]);
    int n = 0;
    for (int c = 0; c < nt; c++) {
      int j = gf_schema_find(ps, tf[c].name);
      if (j >= 0 && tf[c].type.id == GF_TYPE_UTF8 && !is_text(gf_schema_field(ps, j)->type))
        txt[n++] = tf[c].name;
    }
    if (n == 0) continue;
    gf_frame *again = NULL;
    st = reread_as_text(s, idx[k], cols[k], ncols[k], txt, n, gf_frame_num_rows(parts[k]), o, &again,
                        err);
    if (st == GF_OK) {
      gf_frame_release(parts[k]);
      parts[k] = again;
    }
  }
  for (int k = 0; k < nk && st == GF_OK; k++) {
    gf_frame *c = parts[k];
    parts[k] = NULL;
    st = conform(s, idx[k], c, united, o, &parts[k], err);
  }
  if (st == GF_OK) {
    if (nk == 0) st = gfi_plan_empty_frame(united, out, err);
    else if (nk == 1) *out = gf_frame_retain(parts[0]);
    else st = gf_frame_concat(parts, nk, o->allocator, out, err);
  }
  if (st == GF_OK && s->max_rows > 0 && gf_frame_num_rows(*out) > s->max_rows) {
    gf_frame *cut = NULL; /* an IPC file is read whole */
    st = gf_frame_slice(*out, 0, s->max_rows, &cut, err);
    gf_frame_release(*out);
    *out = st == GF_OK ? cut : NULL;
  }
  if (txt) gfi_mfree(NULL, (void *)txt, sizeof *txt * (size_t)(nt > 0 ? nt : 1));
  if (tf) gfi_mfree(NULL, tf, sizeof *tf * (size_t)(nt > 0 ? nt : 1));
  if (from) gfi_mfree(NULL, from, sizeof *from * (size_t)(nt > 0 ? nt : 1));
  gf_schema_release(united);
  gf_schema_release(target);
  for (int k = 0; k < nf; k++) {
    if (parts) gf_frame_release(parts[k]);
    if (cols && cols[k]) {
      int w = gf_schema_num_fields(gf_plan_schema(s->scans[idx[k]]));
      gfi_mfree(NULL, (void *)cols[k], sizeof *cols[k] * (size_t)(w > 0 ? w : 1));
    }
  }
  if (keep) gfi_mfree(NULL, keep, (size_t)nf);
  if (idx) gfi_mfree(NULL, idx, sizeof *idx * (size_t)nf);
  if (cols) gfi_mfree(NULL, (void *)cols, sizeof *cols * (size_t)nf);
  if (ncols) gfi_mfree(NULL, ncols, sizeof *ncols * (size_t)nf);
  if (parts) gfi_mfree(NULL, parts, sizeof *parts * (size_t)nf);
  if (sts) gfi_mfree(NULL, sts, sizeof *sts * (size_t)nf);
  if (errs) gfi_mfree(NULL, errs, sizeof *errs * (size_t)nf);
  return st;
}
