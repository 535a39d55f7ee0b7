/* quickstart.c - build three columns with the C API, make a frame, print it. */
#include <gopherframe.h>
#include <stdio.h>

#define CHECK(call) do { if ((st = (call)) != GF_OK) goto done; } while (0)

int main(void) {
  const char *names[] = {"id", "name", "score"}, *who[] = {"ada", NULL, "grace"};
  const double score[] = {9.5, 7.25, 8.0};
  gf_array *col[3] = {NULL, NULL, NULL};
  gf_builder *b[3] = {NULL, NULL, NULL};
  gf_frame *frame = NULL;
  gf_error err = {GF_OK, ""};
  gf_status st;

  CHECK(gf_builder_new(gf_type(GF_TYPE_INT64), NULL, &b[0], &err));
  CHECK(gf_builder_new(gf_type(GF_TYPE_UTF8), NULL, &b[1], &err));
  CHECK(gf_builder_new(gf_type(GF_TYPE_FLOAT64), NULL, &b[2], &err));
  for (int i = 0; i < 3; i++) {
    CHECK(gf_builder_append_int64(b[0], i + 1, &err));
    CHECK(who[i] ? gf_builder_append_string(b[1], who[i], &err)
                 : gf_builder_append_null(b[1], &err));
    CHECK(gf_builder_append_double(b[2], score[i], &err));
  }
  for (int c = 0; c < 3; c++) CHECK(gf_builder_finish(b[c], &col[c], &err));
  CHECK(gf_frame_from_columns(names, col, 3, &frame, &err));
  CHECK(gf_frame_print(frame, NULL, stdout, &err));
done:
  if (st != GF_OK) fprintf(stderr, "quickstart: %s: %s\n", gf_status_name(st), err.message);
  gf_frame_release(frame); /* the frame holds its own references to the columns */
  for (int c = 0; c < 3; c++) {
    gf_array_release(col[c]);
    gf_builder_free(b[c]);
  }
  return st == GF_OK ? 0 : 1;
}
