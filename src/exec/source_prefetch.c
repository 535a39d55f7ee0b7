/*
 * Prefetch (exec/stream_internal.h): a producer thread pulls the next
 * batches of a source while the driver runs the current one through its
 * steps and sink.
 *
 * The producer is the only caller of the inner source's next(), so the
 * inner source sees the calls it would see from the driver, in the same
 * order; the batches reach the driver in that order through a FIFO of at
 * most `depth` ready batches. The driver therefore gets exactly the
 * batches, positions and errors of the unwrapped source: results do not
 * depend on prefetching. The inner source's own parallel work (a CSV
 * window's parse, an IPC group's decode) runs on the pool from the
 * producer thread while the driver's steps use the pool from the calling
 * thread: the two overlap.
 *
 * Memory: besides the batch the driver holds, at most `depth` ready
 * batches and the one the producer is making: depth + 2 batches at once
 * (the producer waits for room before it starts the next one).
 *
 * Stopping: an error of the inner source is handed on after the batches
 * before it. When the driver stops early (a limit reached, a sink error,
 * a cancelled run), free() asks the producer to stop, waits for the batch
 * it is making (its parse checks the run's token and deadline), and
 * releases what was read ahead.
 */
#include <string.h>

#include "exec/exec_internal.h"
#include "exec/stream_internal.h"

#define MAX_DEPTH 8

typedef struct pf {
  gfi_source *in;
  pthread_t th;
  pthread_mutex_t mu;
  pthread_cond_t ready; /* a batch or the end is there */
  pthread_cond_t room;  /* the queue has room, or stop */
  gf_frame *q[MAX_DEPTH];
  int64_t row0[MAX_DEPTH];
  int head, n, depth;
  bool done, stop;
  gf_status st;
  gf_error err;
} pf;

static void *producer(void *arg) {
  pf *p = arg;
  for (;;) {
    pthread_mutex_lock(&p->mu);
    while (!p->stop && p->n == p->depth) pthread_cond_wait(&p->room, &p->mu);
    bool stop = p->stop;
    pthread_mutex_unlock(&p->mu);
    if (stop) break;
    gf_frame *b = NULL;
    int64_t r0 = 0;
    gf_error e;
    gf_error_clear(&e);
    gf_status st = p->in->next(p->in, &b, &r0, &e);
    pthread_mutex_lock(&p->mu);
    if (st != GF_OK || !b || p->stop) {
      if (!p->stop) {
        p->st = st;
        p->err = e;
      }
      p->done = true;
      pthread_cond_broadcast(&p->ready);
      pthread_mutex_unlock(&p->mu);
      gf_frame_release(b);
      break;
    }
    p->q[(p->head + p->n) % p->depth] = b;
    p->row0[(p->head + p->n) % p->depth] = r0;
    p->n++;
    pthread_cond_broadcast(&p->ready);
    pthread_mutex_unlock(&p->mu);
  }
  return NULL;
}

static gf_status pf_next(gfi_source *s, gf_frame **out, int64_t *row0, gf_error *err) {
  pf *p = s->state;
  *out = NULL;
  *row0 = 0;
  pthread_mutex_lock(&p->mu);
  while (p->n == 0 && !p->done) pthread_cond_wait(&p->ready, &p->mu);
  gf_status st = GF_OK;
  if (p->n > 0) {
    *out = p->q[p->head];
    *row0 = p->row0[p->head];
    p->q[p->head] = NULL;
    p->head = (p->head + 1) % p->depth;
    p->n--;
    pthread_cond_broadcast(&p->room);
  } else if (p->st != GF_OK) {
    st = p->st;
    if (err) *err = p->err;
  }
  pthread_mutex_unlock(&p->mu);
  return st;
}

/* Only after the end (the producer is done with the inner source). */
static gf_array *pf_dictionary(gfi_source *s, int c) {
  pf *p = s->state;
  return p->in->dictionary ? p->in->dictionary(p->in, c) : NULL;
}

static void pf_free(gfi_source *s) {
  if (!s) return;
  pf *p = s->state;
  pthread_mutex_lock(&p->mu);
  p->stop = true;
  pthread_cond_broadcast(&p->room);
  pthread_mutex_unlock(&p->mu);
  pthread_join(p->th, NULL);
  for (int k = 0; k < p->n; k++) gf_frame_release(p->q[(p->head + k) % p->depth]);
  p->in->free(p->in);
  pthread_cond_destroy(&p->ready);
  pthread_cond_destroy(&p->room);
  pthread_mutex_destroy(&p->mu);
  gfi_mfree(NULL, p, sizeof *p);
  gf_schema_release(s->schema);
  gfi_mfree(NULL, s, sizeof *s);
}

gf_status gfi_source_prefetch(gfi_source *in, int depth, gfi_source **out, gf_error *err) {
  *out = in;
  if (depth < 1) return GF_OK;
  gfi_source *s = gfi_calloc(NULL, sizeof *s);
  pf *p = gfi_calloc(NULL, sizeof *p);
  if (!s || !p) {
    if (s) gfi_mfree(NULL, s, sizeof *s);
    if (p) gfi_mfree(NULL, p, sizeof *p);
    return GF_OOM(err, "a prefetching source");
  }
  p->in = in;
  p->depth = depth > MAX_DEPTH ? MAX_DEPTH : depth;
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->ready, NULL);
  pthread_cond_init(&p->room, NULL);
  if (!gfi_thread_start(&p->th, producer, p)) {
    /* No thread: the driver reads the source itself, as without prefetch. */
    pthread_cond_destroy(&p->ready);
    pthread_cond_destroy(&p->room);
    pthread_mutex_destroy(&p->mu);
    gfi_mfree(NULL, p, sizeof *p);
    gfi_mfree(NULL, s, sizeof *s);
    return GF_OK;
  }
  s->state = p;
  s->schema = gf_schema_retain(in->schema);
  s->next = pf_next;
  s->free = pf_free;
  if (in->dictionary) s->dictionary = pf_dictionary;
  *out = s;
  return GF_OK;
}
