/*
 * Path expansion of multi-file scans (include/gopherframe/files.h):
 * globs, directories and plain paths turned into a sorted, deduplicated
 * list of regular files.
 *
 * Globs are matched one path segment at a time against directory
 * listings (never by listing the whole tree and filtering), so `a/x*.csv`
 * reads one directory however big the tree under it is; only `**` walks.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/core_internal.h"

/* A growable list of owned path strings (default allocator). */
typedef struct pathvec {
  int n, cap;
  char **v;
} pathvec;

static void pv_free(pathvec *p) {
  for (int i = 0; i < p->n; i++) gfi_mfree(NULL, p->v[i], strlen(p->v[i]) + 1);
  if (p->v) gfi_mfree(NULL, p->v, sizeof *p->v * (size_t)p->cap);
  memset(p, 0, sizeof *p);
}

/* Appends a copy of a + (sep) + b; GF_ENOMEM. */
static gf_status pv_push2(pathvec *p, const char *a, const char *b, gf_error *err) {
  if (p->n == p->cap) {
    int cap = p->cap ? p->cap * 2 : 16;
    char **v = gfi_malloc(NULL, sizeof *v * (size_t)cap);
    if (!v) return GF_OOM(err, "path list");
    if (p->v) {
      memcpy(v, p->v, sizeof *v * (size_t)p->n);
      gfi_mfree(NULL, p->v, sizeof *v * (size_t)p->cap);
    }
    p->v = v;
    p->cap = cap;
  }
  size_t la = strlen(a), lb = b ? strlen(b) : 0;
  bool sep = b && la > 0 && a[la - 1] != '/';
  char *s = gfi_malloc(NULL, la + lb + (sep ? 1 : 0) + 1);
  if (!s) return GF_OOM(err, "path");
  memcpy(s, a, la);
  if (sep) s[la++] = '/';
  if (b) memcpy(s + la, b, lb);
  s[la + lb] = '\0';
  p->v[p->n++] = s;
  return GF_OK;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- matching ------------------------------------------------------------ */

/* Matches the bracket expression starting at pat[0] == '[' (within the
 * segment's pn bytes) against byte c. Returns the bracket's length
 * (through ']'), or 0 when it is not terminated in the segment (then the
 * '[' is a literal byte); *hit says whether c is in the set. A ']' right
 * after '[' or '[!' is a member, `a-z` a range of bytes. */
static size_t match_class(const char *pat, size_t pn, unsigned char c, bool *hit) {
  size_t p = 1;
  bool neg = false, in = false;
  if (p < pn && (pat[p] == '!' || pat[p] == '^')) {
    neg = true;
    p++;
  }
  bool first = true;
  while (p < pn && (first || pat[p] != ']')) {
    first = false;
    unsigned char lo = (unsigned char)pat[p], hi = lo;
    if (p + 2 < pn && pat[p + 1] == '-' && pat[p + 2] != ']') {
      hi = (unsigned char)pat[p + 2];
      p += 3;
    } else {
      p++;
    }
    if (c >= lo && c <= hi) in = true;
  }
  if (p >= pn) return 0;
  *hit = in != neg;
  return p + 1;
}

/* True when pattern segment pat[0, pn) matches name[0, nn): no '/' in
 * either. Iterative with one backtrack point, the last `*` (linear in
 * practice, never exponential). */
static bool match_segment(const char *pat, size_t pn, const char *name, size_t nn) {
  /* A wildcard never matches a leading '.' (hidden entries). */
  if (nn > 0 && name[0] == '.' && (pn == 0 || pat[0] != '.')) return false;
  size_t p = 0, n = 0, star_p = (size_t)-1, star_n = 0;
  while (n < nn) {
    if (p < pn && pat[p] == '*') {
      star_p = p++;
      star_n = n;
      continue;
    }
    if (p < pn && pat[p] == '?') {
      p++;
      n++;
      continue;
    }
    if (p < pn && pat[p] == '[') {
      bool hit = false;
      size_t len = match_class(pat + p, pn - p, (unsigned char)name[n], &hit);
      if (len > 0 && hit) {
        p += len;
        n++;
        continue;
      }
      if (len == 0 && name[n] == '[') {
        p++;
        n++;
        continue;
      }
    } else if (p < pn && pat[p] == name[n]) {
      p++;
      n++;
      continue;
    }
    if (star_p == (size_t)-1) return false;
    p = star_p + 1;
    n = ++star_n;
  }
  while (p < pn && pat[p] == '*') p++;
  return p == pn;
}

static bool has_meta(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] == '*' || s[i] == '?' || s[i] == '[') return true;
  return false;
}

/* Length of the segment at s (up to '/' or the end). */
static size_t seg_len(const char *s) {
  size_t n = 0;
  while (s[n] && s[n] != '/') n++;
  return n;
}

static bool is_globstar(const char *s, size_t n) { return n == 2 && s[0] == '*' && s[1] == '*'; }

/* Whole-path match: pattern segments against path segments, `**` taking
 * zero or more non-hidden segments. Empty segments (a//b) are skipped. */
static bool match_path(const char *pat, const char *path) {
  for (;;) {
    while (*pat == '/') pat++;
    while (*path == '/') path++;
    if (!*pat) return !*path;
    size_t pl = seg_len(pat);
    if (is_globstar(pat, pl)) {
      const char *rest = pat + pl;
      while (*rest == '/') rest++;
      if (is_globstar(rest, seg_len(rest))) { /* consecutive ** are one */
        pat = rest;
        continue;
      }
      /* Zero segments, then one more at a time (none hidden). */
      for (const char *q = path;;) {
        if (match_path(rest, q)) return true;
        if (!*q || *q == '.') return false;
        q += seg_len(q);
        while (*q == '/') q++;
      }
    }
    if (!*path) return false;
    size_t nl = seg_len(path);
    if (!match_segment(pat, pl, path, nl)) return false;
    pat += pl;
    path += nl;
  }
}

bool gf_glob_match(const char *pattern, const char *path) {
  if (!pattern || !path) return false;
  if ((pattern[0] == '/') != (path[0] == '/')) return false; /* absolute vs relative */
  return match_path(pattern, path);
}

/* ---- data file names ------------------------------------------------------ */

static bool ends_with_ci(const char *s, size_t n, const char *suf) {
  size_t m = strlen(suf);
  if (m > n) return false;
  for (size_t i = 0; i < m; i++) {
    char a = s[n - m + i], b = suf[i];
    if (a >= 'A' && a <= 'Z') a = (char)(a - 'A' + 'a');
    if (a != b) return false;
  }
  return true;
}

bool gf_is_data_file_name(const char *name) {
  if (!name || !name[0] || name[0] == '.' || name[0] == '_') return false;
  size_t n = strlen(name);
  if (ends_with_ci(name, n, ".crc")) return false;
  static const char *const codecs[] = {".gz", ".zst", ".lz4", ".bz2"};
  for (int i = 0; i < 4; i++)
    if (ends_with_ci(name, n, codecs[i])) {
      n -= strlen(codecs[i]);
      break;
    }
  static const char *const exts[] = {".csv",   ".tsv",  ".txt",     ".arrow", ".feather", ".ipc",
                                     ".arrows", ".parquet", ".ndjson", ".jsonl", ".json"};
  for (size_t i = 0; i < sizeof exts / sizeof *exts; i++)
    if (ends_with_ci(name, n, exts[i]) && n > strlen(exts[i])) return true;
  return false;
}

/* ---- walking ----------------------------------------------------------------- */

typedef struct walker {
  pathvec *out;
  gf_error *err;
  const char *arg; /* the argument being expanded, for messages */
} walker;

static bool is_regular(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

static bool is_dir(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* A directory (not a symbolic link to one): what `**` and directory
 * scans descend into, so a link cycle cannot make them loop. */
static bool is_real_dir(const char *path) {
  struct stat sb;
  return lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* The names in `dir` ("" = the current directory) except "." and "..",
 * into *names (sorted). A directory that cannot be opened is skipped
 * (as a shell glob does) unless it is the one named: then GF_EIO. */
static gf_status list_dir(const char *dir, bool must, pathvec *names, gf_error *err) {
  DIR *d = opendir(dir[0] ? dir : ".");
  if (!d) {
    if (must) return gf_error_set(err, GF_EIO, "%s: cannot open directory: %s", dir, strerror(errno));
    return GF_OK;
  }
  gf_status st = GF_OK;
  struct dirent *e;
  while (st == GF_OK && (e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    st = pv_push2(names, e->d_name, NULL, err);
  }
  closedir(d);
  if (st == GF_OK && names->n > 1) qsort(names->v, (size_t)names->n, sizeof *names->v, cmp_str);
  return st;
}

/* Joins dir and name into a new string (NULL when out of memory). */
static char *join(const char *dir, const char *name, size_t nl) {
  size_t dl = strlen(dir);
  bool sep = dl > 0 && dir[dl - 1] != '/';
  char *s = gfi_malloc(NULL, dl + (sep ? 1 : 0) + nl + 1);
  if (!s) return NULL;
  memcpy(s, dir, dl);
  if (sep) s[dl++] = '/';
  memcpy(s + dl, name, nl);
  s[dl + nl] = '\0';
  return s;
}

static void free_str(char *s) {
  if (s) gfi_mfree(NULL, s, strlen(s) + 1);
}

/* Expands the pattern segments from `pat` under directory `dir`. */
static gf_status walk_glob(walker *w, const char *dir, const char *pat, int depth) {
  while (*pat == '/') pat++;
  if (depth > 4096) return gf_error_set(w->err, GF_EINVAL, "%s: directory tree too deep", w->arg);
  if (!*pat) return GF_OK; /* a trailing '/': directories are not files */
  size_t pl = seg_len(pat);
  const char *rest = pat + pl;
  while (*rest == '/') rest++;
  bool last = !*rest;
  if (is_globstar(pat, pl) && !last && is_globstar(rest, seg_len(rest)))
    return walk_glob(w, dir, rest, depth + 1); /* a/ ** / ** /b is a/ ** /b: not exponential */
  if (is_globstar(pat, pl)) {
    if (last) return gf_error_set(w->err, GF_EINVAL,
                                  "%s: '**' must be followed by a file pattern (as in dir/**/*.csv)",
                                  w->arg);
    GF_RETURN_NOT_OK(walk_glob(w, dir, rest, depth + 1));
    pathvec names = {0};
    gf_status st = list_dir(dir, false, &names, w->err);
    for (int i = 0; i < names.n && st == GF_OK; i++) {
      if (names.v[i][0] == '.') continue;
      char *sub = join(dir, names.v[i], strlen(names.v[i]));
      if (!sub) st = GF_OOM(w->err, "path");
      else if (is_real_dir(sub)) st = walk_glob(w, sub, pat, depth + 1);
      free_str(sub);
    }
    pv_free(&names);
    return st;
  }
  if (!has_meta(pat, pl)) {
    char *sub = join(dir, pat, pl);
    if (!sub) return GF_OOM(w->err, "path");
    gf_status st = GF_OK;
    if (last) {
      if (is_regular(sub)) st = pv_push2(w->out, sub, NULL, w->err);
    } else if (is_dir(sub)) {
      st = walk_glob(w, sub, rest, depth + 1);
    }
    free_str(sub);
    return st;
  }
  pathvec names = {0};
  gf_status st = list_dir(dir, false, &names, w->err);
  for (int i = 0; i < names.n && st == GF_OK; i++) {
    if (!match_segment(pat, pl, names.v[i], strlen(names.v[i]))) continue;
    char *sub = join(dir, names.v[i], strlen(names.v[i]));
    if (!sub) st = GF_OOM(w->err, "path");
    else if (last && is_regular(sub)) st = pv_push2(w->out, sub, NULL, w->err);
    else if (!last && is_dir(sub)) st = walk_glob(w, sub, rest, depth + 1);
    free_str(sub);
  }
  pv_free(&names);
  return st;
}

/* Every data file under `dir`, recursively (hidden and underscore
 * entries and links to directories skipped). */
static gf_status walk_dir(walker *w, const char *dir, int depth) {
  if (depth > 4096) return gf_error_set(w->err, GF_EINVAL, "%s: directory tree too deep", w->arg);
  pathvec names = {0};
  gf_status st = list_dir(dir, depth == 0, &names, w->err);
  for (int i = 0; i < names.n && st == GF_OK; i++) {
    const char *nm = names.v[i];
    if (nm[0] == '.' || nm[0] == '_') continue;
    char *sub = join(dir, nm, strlen(nm));
    if (!sub) st = GF_OOM(w->err, "path");
    else if (is_real_dir(sub)) st = walk_dir(w, sub, depth + 1);
    else if (gf_is_data_file_name(nm) && is_regular(sub)) st = pv_push2(w->out, sub, NULL, w->err);
    free_str(sub);
  }
  pv_free(&names);
  return st;
}

/* Expands one argument, appending its matches sorted. */
static gf_status expand_one(const char *arg, pathvec *out, gf_error *err) {
  walker w = {out, err, arg};
  int before = out->n;
  struct stat sb;
  bool exists = stat(arg, &sb) == 0;
  gf_status st = GF_OK;
  if (exists && S_ISDIR(sb.st_mode)) {
    st = walk_dir(&w, arg, 0);
    if (st == GF_OK && out->n == before)
      return gf_error_set(err, GF_EINVAL,
                          "%s: directory has no data files (read: .csv .tsv .txt .arrow .feather "
                          ".ipc .arrows .parquet .ndjson .jsonl .json, optionally compressed; "
                          "names starting with '.' or '_' are skipped)",
                          arg);
  } else if (!exists && has_meta(arg, strlen(arg))) {
    st = walk_glob(&w, arg[0] == '/' ? "/" : "", arg, 0);
    if (st == GF_OK && out->n == before)
      return gf_error_set(err, GF_EINVAL, "%s: no file matches this pattern", arg);
  } else {
    return pv_push2(out, arg, NULL, err);
  }
  if (st == GF_OK && out->n - before > 1)
    qsort(out->v + before, (size_t)(out->n - before), sizeof *out->v, cmp_str);
  return st;
}

/* Sorting entries by (string, position) to find later duplicates. */
typedef struct dupkey {
  const char *s;
  int i;
} dupkey;

static int cmp_dup(const void *a, const void *b) {
  const dupkey *x = a, *y = b;
  int c = strcmp(x->s, y->s);
  return c ? c : (x->i > y->i) - (x->i < y->i);
}

gf_status gf_expand_paths(const char *const *patterns, int n, char ***paths, int *npaths,
                          gf_error *err) {
  if (!patterns || n < 1 || !paths || !npaths)
    return gf_error_set(err, GF_EINVAL, "gf_expand_paths: no path given");
  for (int i = 0; i < n; i++)
    if (!patterns[i] || !patterns[i][0])
      return gf_error_set(err, GF_EINVAL, "gf_expand_paths: path %d is empty", i);
  pathvec all = {0};
  gf_status st = GF_OK;
  for (int i = 0; i < n && st == GF_OK; i++) st = expand_one(patterns[i], &all, err);
  /* Drop later duplicates (a file named by two arguments is read once). */
  bool *drop = NULL;
  dupkey *keys = NULL;
  if (st == GF_OK) {
    drop = gfi_calloc(NULL, (size_t)all.n + 1);
    keys = gfi_malloc(NULL, sizeof *keys * ((size_t)all.n + 1));
    if (!drop || !keys) st = GF_OOM(err, "path list");
  }
  size_t bytes = 0;
  int kept = 0;
  if (st == GF_OK) {
    for (int i = 0; i < all.n; i++) keys[i] = (dupkey){all.v[i], i};
    qsort(keys, (size_t)all.n, sizeof *keys, cmp_dup);
    for (int i = 1; i < all.n; i++)
      if (strcmp(keys[i].s, keys[i - 1].s) == 0) drop[keys[i].i] = true;
    for (int i = 0; i < all.n; i++)
      if (!drop[i]) {
        kept++;
        bytes += strlen(all.v[i]) + 1;
      }
  }
  char **block = NULL;
  if (st == GF_OK) {
    block = gfi_owned_alloc(NULL, sizeof *block * (size_t)kept + bytes);
    if (!block) st = GF_OOM(err, "path list");
  }
  if (st == GF_OK) {
    char *s = (char *)(block + kept);
    int k = 0;
    for (int i = 0; i < all.n; i++) {
      if (drop[i]) continue;
      size_t l = strlen(all.v[i]) + 1;
      memcpy(s, all.v[i], l);
      block[k++] = s;
      s += l;
    }
    *paths = block;
    *npaths = kept;
  }
  if (drop) gfi_mfree(NULL, drop, (size_t)all.n + 1);
  if (keys) gfi_mfree(NULL, keys, sizeof *keys * ((size_t)all.n + 1));
  pv_free(&all);
  return st;
}
