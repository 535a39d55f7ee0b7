/*
 * format_detect.c - which format and compression a file holds, from its
 * first bytes, with the extension as a hint (include/gopherframe/format.h,
 * rules in docs/FORMATS.md). Pure functions over a byte prefix: no I/O.
 */
#include <string.h>
#include <strings.h>

#include "core/core_internal.h"

/* See format.h. */
const char *gf_file_format_name(gf_file_format f) {
  switch (f) {
    case GF_FORMAT_CSV: return "csv";
    case GF_FORMAT_TSV: return "tsv";
    case GF_FORMAT_NDJSON: return "ndjson";
    case GF_FORMAT_JSON: return "json";
    case GF_FORMAT_IPC_FILE: return "arrow";
    case GF_FORMAT_IPC_STREAM: return "arrows";
    case GF_FORMAT_PARQUET: return "parquet";
    case GF_FORMAT_BINARY: return "binary";
    default: return "unknown";
  }
}

/* See format.h. */
const char *gf_compression_name(gf_compression c) {
  switch (c) {
    case GF_COMPRESSION_GZIP: return "gzip";
    case GF_COMPRESSION_ZSTD: return "zstd";
    case GF_COMPRESSION_LZ4_FRAME: return "lz4";
    case GF_COMPRESSION_BZIP2: return "bzip2";
    default: return "none";
  }
}

/* See format.h. */
const char *gf_compression_extension(gf_compression c) {
  switch (c) {
    case GF_COMPRESSION_GZIP: return ".gz";
    case GF_COMPRESSION_ZSTD: return ".zst";
    case GF_COMPRESSION_LZ4_FRAME: return ".lz4";
    case GF_COMPRESSION_BZIP2: return ".bz2";
    default: return "";
  }
}

/* Names users type for formats (the first of each is the canonical name). */
static const struct {
  const char *name;
  gf_file_format f;
} format_names[] = {
    {"csv", GF_FORMAT_CSV},          {"tsv", GF_FORMAT_TSV},
    {"tab", GF_FORMAT_TSV},          {"ndjson", GF_FORMAT_NDJSON},
    {"jsonl", GF_FORMAT_NDJSON},     {"json", GF_FORMAT_JSON},
    {"arrow", GF_FORMAT_IPC_FILE},   {"ipc", GF_FORMAT_IPC_FILE},
    {"feather", GF_FORMAT_IPC_FILE}, {"arrows", GF_FORMAT_IPC_STREAM},
    {"ipc-stream", GF_FORMAT_IPC_STREAM}, {"parquet", GF_FORMAT_PARQUET},
};

/* See format.h. */
bool gf_file_format_parse(const char *name, gf_file_format *out) {
  if (!name) return false;
  for (size_t i = 0; i < sizeof format_names / sizeof format_names[0]; i++)
    if (strcasecmp(name, format_names[i].name) == 0) {
      *out = format_names[i].f;
      return true;
    }
  return false;
}

/* True when `path` (length n) ends with `ext` (case-insensitive) and has
 * something before it. */
static bool ends_with(const char *path, size_t n, const char *ext) {
  size_t m = strlen(ext);
  return n > m && strncasecmp(path + n - m, ext, m) == 0;
}

/* See format.h. */
void gf_format_from_path(const char *path, gf_file_format *format, gf_compression *compression) {
  static const struct {
    const char *ext;
    gf_compression c;
  } cext[] = {{".gz", GF_COMPRESSION_GZIP},       {".gzip", GF_COMPRESSION_GZIP},
              {".zst", GF_COMPRESSION_ZSTD},      {".zstd", GF_COMPRESSION_ZSTD},
              {".lz4", GF_COMPRESSION_LZ4_FRAME}, {".bz2", GF_COMPRESSION_BZIP2}};
  static const struct {
    const char *ext;
    gf_file_format f;
  } fext[] = {{".csv", GF_FORMAT_CSV},          {".tsv", GF_FORMAT_TSV},
              {".tab", GF_FORMAT_TSV},          {".ndjson", GF_FORMAT_NDJSON},
              {".jsonl", GF_FORMAT_NDJSON},     {".json", GF_FORMAT_JSON},
              {".arrow", GF_FORMAT_IPC_FILE},   {".feather", GF_FORMAT_IPC_FILE},
              {".ipc", GF_FORMAT_IPC_FILE},     {".arrow_file", GF_FORMAT_IPC_FILE},
              {".arrows", GF_FORMAT_IPC_STREAM}, {".stream", GF_FORMAT_IPC_STREAM},
              {".arrow_stream", GF_FORMAT_IPC_STREAM}, {".parquet", GF_FORMAT_PARQUET},
              {".pq", GF_FORMAT_PARQUET}};
  gf_file_format f = GF_FORMAT_UNKNOWN;
  gf_compression c = GF_COMPRESSION_NONE;
  size_t n = path ? strlen(path) : 0;
  for (size_t i = 0; n && i < sizeof cext / sizeof cext[0]; i++)
    if (ends_with(path, n, cext[i].ext)) {
      c = cext[i].c;
      n -= strlen(cext[i].ext);
      break;
    }
  for (size_t i = 0; n && i < sizeof fext / sizeof fext[0]; i++)
    if (ends_with(path, n, fext[i].ext)) {
      f = fext[i].f;
      break;
    }
  if (format) *format = f;
  if (compression) *compression = c;
}

/* See format.h. The lz4 legacy frame (02 21 4c 18) is not the frame format
 * and is not recognised; zstd's skippable frames are (a frame may start
 * with one). */
gf_compression gf_detect_compression(const void *head, size_t len) {
  const unsigned char *p = head;
  if (len >= 3 && p[0] == 0x1f && p[1] == 0x8b && p[2] == 8) return GF_COMPRESSION_GZIP;
  if (len >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd)
    return GF_COMPRESSION_ZSTD;
  if (len >= 4 && (p[0] & 0xf0) == 0x50 && p[1] == 0x2a && p[2] == 0x4d && p[3] == 0x18)
    return GF_COMPRESSION_ZSTD;
  if (len >= 4 && p[0] == 0x04 && p[1] == 0x22 && p[2] == 0x4d && p[3] == 0x18)
    return GF_COMPRESSION_LZ4_FRAME;
  if (len >= 4 && p[0] == 'B' && p[1] == 'Z' && p[2] == 'h' && p[3] >= '1' && p[3] <= '9')
    return GF_COMPRESSION_BZIP2;
  return GF_COMPRESSION_NONE;
}

static uint32_t le32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }

/* True when an IPC Message flatbuffer of `size` bytes starts at p[base]
 * (within the `len` bytes we have) and its header type is Schema (1): what
 * an IPC stream starts with. The root offset, the vtable and the field are
 * range-checked; a message longer than the head is judged on what the head
 * holds (the root table and its vtable come first in practice). */
static bool schema_message_at(const unsigned char *p, size_t len, size_t base, uint32_t size) {
  if (size < 12 || size > (1u << 30) || len < base + 8) return false;
  size_t end = base + size < len ? base + size : len;
  size_t root = base + le32(p + base);
  if (root % 4 || root + 4 > end) return false;
  int32_t vt_rel = (int32_t)le32(p + root);
  int64_t vt = (int64_t)root - vt_rel;
  if (vt < (int64_t)base || vt + 4 > (int64_t)end) return false;
  uint16_t vt_size = le16(p + vt);
  /* Message fields: version (0), header_type (1), header (2)...; the
   * header_type entry is at vtable offset 4 + 2. */
  if (vt_size < 8 || vt_size % 2 || vt + vt_size > (int64_t)end) return false;
  uint16_t off = le16(p + vt + 6);
  if (off == 0 || root + off >= end) return false;
  return p[root + off] == 1;
}

/* True when the head starts an Arrow IPC stream: the continuation marker
 * 0xFFFFFFFF and a metadata length, or (pre-1.0 "legacy" framing) the
 * length alone, followed by a Schema message. */
static bool is_ipc_stream(const unsigned char *p, size_t len) {
  if (len >= 8 && le32(p) == 0xffffffffu) return schema_message_at(p, len, 8, le32(p + 4));
  if (len >= 4) return schema_message_at(p, len, 4, le32(p));
  return false;
}

/* Skips a UTF-8 byte order mark and JSON white space from i. */
static size_t skip_blank(const unsigned char *p, size_t len, size_t i) {
  if (i == 0 && len >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf) i = 3;
  while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r')) i++;
  return i;
}

/* For data starting (after blanks) with '{' at i: NDJSON when the first
 * object closes on its first line (one object per line), JSON when it
 * spans lines (a pretty-printed document). An object longer than the head
 * without a line break is NDJSON. */
static gf_file_format object_kind(const unsigned char *p, size_t len, size_t i) {
  int depth = 0;
  bool in_str = false;
  for (; i < len; i++) {
    unsigned char c = p[i];
    if (in_str) {
      if (c == '\\') i++;
      else if (c == '"') in_str = false;
      continue;
    }
    if (c == '"') in_str = true;
    else if (c == '{' || c == '[') depth++;
    else if (c == '}' || c == ']') {
      if (--depth == 0) return GF_FORMAT_NDJSON;
    } else if (c == '\n') return GF_FORMAT_JSON;
  }
  return GF_FORMAT_NDJSON;
}

/* A JSON text at i: '[' followed by a value start, or '{' followed by a
 * key or '}'. Anything else is not JSON (a CSV header may start with '['). */
static gf_file_format json_kind(const unsigned char *p, size_t len, size_t i) {
  if (i >= len) return GF_FORMAT_UNKNOWN;
  size_t j = skip_blank(p, len, i + 1);
  if (p[i] == '[') {
    if (j >= len) return GF_FORMAT_JSON;
    return p[j] && strchr("{[]\"-0123456789tfn", p[j]) ? GF_FORMAT_JSON : GF_FORMAT_UNKNOWN;
  }
  if (p[i] == '{') {
    if (j < len && p[j] != '"' && p[j] != '}') return GF_FORMAT_UNKNOWN;
    return object_kind(p, len, i);
  }
  return GF_FORMAT_UNKNOWN;
}

/* True when the head is not text: a NUL byte, or more than 2 and more than
 * 1 in 16 bytes that are control characters (other than tab, CR, LF, FF)
 * or not part of valid UTF-8. The last 3 bytes may be a cut UTF-8
 * sequence. */
static bool looks_binary(const unsigned char *p, size_t len) {
  size_t bad = 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = p[i];
    if (c == 0) return true;
    if (c < 0x20) {
      if (c != '\t' && c != '\n' && c != '\r' && c != '\f') bad++;
      continue;
    }
    if (c < 0x80) continue;
    int n = c >= 0xf0 && c <= 0xf4 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 && c < 0xe0 ? 1 : -1;
    if (c > 0xf4) n = -1;
    if (n < 0) {
      bad++;
      continue;
    }
    if (i + (size_t)n >= len) break; /* cut at the end of the head */
    bool ok = true;
    for (int k = 1; k <= n; k++) ok = ok && (p[i + (size_t)k] & 0xc0) == 0x80;
    if (ok) i += (size_t)n;
    else bad++;
  }
  /* A stray byte or two (a tiny file with one bad character) is left to the
   * text reader, whose error names its line, column and byte offset. */
  return bad > 2 && bad * 16 > len;
}

/* See format.h. */
gf_file_format gf_detect_format(const void *head, size_t len, gf_file_format hint) {
  const unsigned char *p = head;
  if (len == 0) return hint != GF_FORMAT_UNKNOWN ? hint : GF_FORMAT_CSV;
  if (len >= 6 && memcmp(p, "ARROW1", 6) == 0) return GF_FORMAT_IPC_FILE;
  if (len >= 4 && memcmp(p, "PAR1", 4) == 0) return GF_FORMAT_PARQUET;
  if (is_ipc_stream(p, len)) return GF_FORMAT_IPC_STREAM;
  if (gf_detect_compression(p, len) != GF_COMPRESSION_NONE || looks_binary(p, len))
    return GF_FORMAT_BINARY;
  /* Text: the extension decides between text formats when it names one. */
  size_t i = skip_blank(p, len, 0);
  gf_file_format j = json_kind(p, len, i);
  switch (hint) {
    case GF_FORMAT_CSV:
    case GF_FORMAT_TSV:
      return hint;
    case GF_FORMAT_NDJSON:
      return GF_FORMAT_NDJSON;
    case GF_FORMAT_JSON:
      /* Many tools write NDJSON as .json. */
      return j == GF_FORMAT_NDJSON ? GF_FORMAT_NDJSON : GF_FORMAT_JSON;
    default:
      return j != GF_FORMAT_UNKNOWN ? j : GF_FORMAT_CSV;
  }
}

/* See format.h. */
const char *gf_describe_binary(const void *head, size_t len) {
  static const struct {
    const char *magic;
    size_t n;
    const char *what;
  } sigs[] = {
      {"PK\x03\x04", 4, "a zip archive (.zip, .xlsx, .docx...)"},
      {"\xfd" "7zXZ\0", 6, "an xz stream"},
      {"7z\xbc\xaf\x27\x1c", 6, "a 7-Zip archive"},
      {"SQLite format 3\0", 16, "an SQLite database"},
      {"ORC", 3, "an ORC file"},
      {"Obj\x01", 4, "an Avro file"},
      {"%PDF", 4, "a PDF document"},
      {"\x89PNG", 4, "a PNG image"},
      {"\x7f" "ELF", 4, "an executable (ELF)"},
      {"\xd0\xcf\x11\xe0", 4, "an old Microsoft Office file (.xls)"},
      {"ARROW1", 6, "an Arrow IPC file"},
      {"PAR1", 4, "a Parquet file"},
  };
  const unsigned char *p = head;
  gf_compression c = gf_detect_compression(p, len);
  if (c != GF_COMPRESSION_NONE) {
    static const char *const what[] = {"", "a gzip stream", "a zstd stream",
                                       "an lz4 frame stream", "a bzip2 stream"};
    return what[c];
  }
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    if (len >= sigs[i].n && memcmp(p, sigs[i].magic, sigs[i].n) == 0) return sigs[i].what;
  if (is_ipc_stream(p, len)) return "an Arrow IPC stream";
  return NULL;
}
