/*
 * The null worker: an Appose worker that does no work, so that a benchmark
 * against it measures the client alone. For every EXECUTE request it answers
 * at once with a LAUNCH and a COMPLETION ("outputs":{"result":1}); other
 * requests (CANCEL) get no answer. It exits on end-of-file on stdin.
 *
 * One write(2) per response line, as the Python worker does (it prints and
 * flushes each response): a client sees two lines arrive separately, as it
 * would with the real worker. Every client is measured against this same
 * behaviour.
 *
 * No threads, no JSON library: the task id is the string after the first
 * `"task":"` of the line (whitespace around the colon is allowed). JSON
 * strings cannot hold an unescaped quote, so that text can only be a key; the
 * clients put "task" first. Request lines may have any length and arrive in
 * any number of reads: a line is buffered until its newline.
 *
 * When NULL_WORKER_COUNTS names a file, the worker writes there, at exit, how
 * many read(2) and write(2) calls it made ("read N\nwrite N\n"), so that a
 * count of system calls over the client and the worker together can take
 * the worker's out (see tests/bench/pertask.py).
 *
 * Usage: null_worker (stdin: requests, stdout: responses)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static long n_reads, n_writes;

static void report_counts(void) {
  const char *path = getenv("NULL_WORKER_COUNTS");
  if (!path || !*path) return;
  FILE *f = fopen(path, "w");
  if (!f) return;
  fprintf(f, "read %ld\nwrite %ld\n", n_reads, n_writes);
  fclose(f);
}

static void write_all(const char *p, size_t n) {
  while (n > 0) {
    n_writes++;
    ssize_t w = write(1, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      exit(0); /* the client is gone */
    }
    p += w;
    n -= (size_t)w;
  }
}

static const char *skip_ws(const char *p, const char *end) {
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\r')) p++;
  return p;
}

/* The string value of top-level-looking key `key` ("\"task\""), or NULL. */
static const char *string_value(const char *line, const char *end, const char *key, size_t *len) {
  size_t klen = strlen(key);
  const char *p = line;
  while ((p = memmem(p, (size_t)(end - p), key, klen)) != NULL) {
    const char *q = skip_ws(p + klen, end);
    p += klen;
    if (q >= end || *q != ':') continue;
    q = skip_ws(q + 1, end);
    if (q >= end || *q != '"') continue;
    const char *v = ++q;
    while (q < end && *q != '"') q += (*q == '\\') ? 2 : 1;
    if (q >= end) return NULL;
    *len = (size_t)(q - v);
    return v;
  }
  return NULL;
}

static char *out = NULL;
static size_t out_cap = 0;

static void respond(const char *id, size_t id_len, const char *rest) {
  size_t need = id_len + strlen(rest) + 16;
  if (need > out_cap) {
    out_cap = need * 2;
    out = realloc(out, out_cap);
    if (!out) exit(1);
  }
  size_t n = 0;
  memcpy(out, "{\"task\":\"", 9), n = 9;
  memcpy(out + n, id, id_len), n += id_len;
  size_t r = strlen(rest);
  memcpy(out + n, rest, r), n += r;
  write_all(out, n);
}

static void handle(const char *line, const char *end) {
  size_t type_len = 0, id_len = 0;
  const char *type = string_value(line, end, "\"requestType\"", &type_len);
  if (!type || type_len != 7 || memcmp(type, "EXECUTE", 7) != 0) return;
  const char *id = string_value(line, end, "\"task\"", &id_len);
  if (!id) return;
  respond(id, id_len, "\",\"responseType\":\"LAUNCH\"}\n");
  respond(id, id_len, "\",\"responseType\":\"COMPLETION\",\"outputs\":{\"result\":1}}\n");
}

int main(void) {
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap);
  if (!buf) return 1;
  atexit(report_counts);
  for (;;) {
    if (len == cap) {
      cap *= 2;
      buf = realloc(buf, cap);
      if (!buf) return 1;
    }
    n_reads++;
    ssize_t r = read(0, buf + len, cap - len);
    if (r < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    if (r == 0) return 0;
    /* Only the new bytes can hold the newline that ends the buffered line. */
    size_t scan = len, start = 0;
    len += (size_t)r;
    char *nl;
    while ((nl = memchr(buf + scan, '\n', len - scan)) != NULL) {
      handle(buf + start, nl);
      start = scan = (size_t)(nl - buf) + 1;
    }
    memmove(buf, buf + start, len - start);
    len -= start;
  }
}
