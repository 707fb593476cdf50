/*
 * A native WebSocket load generator for bench/chat.ts: holds thousands of reading sockets in one
 * epoll loop and keeps a latency histogram of the marked frames they receive.
 *
 * Why native: the readers share this machine's two cores with the servers under test. Profiled
 * at 1,000 chat messages/s to 10,000 readers, the lean Node reader spent 70% of its CPU in
 * user space (a JS callback per socket read), close to a core in all, which the gateway, Kafka
 * and the Socket.IO peer then did not get; a read here is the syscall and a scan of the bytes.
 * Both servers under test are read by this same program.
 *
 * Protocol (stdin, one command per line; stdout, one JSON object per line in answer):
 *   connect <sio 0|1> <concurrency> <ipv4> <port> <key> <accept> <origin> <n>, then n lines of
 *       request paths -> {"type":"connected","ok":..,"failed":..,"firstError":..|null}
 *   count  -> {"type":"count","received":..,"lastAt":..,"closed":..}
 *   stats  -> {"type":"stats",...count's fields,"hist":[[bucket,n],...]}
 *   reset <c> -> {"type":"reset"}       (c: the phase character after `t=` that counts from now)
 *   closeAll  -> {"type":"closedAll"}
 *
 * A reader is ready after the gateway's first frame (its history) or, for Socket.IO, once "40"
 * (joined) answers the "40" it sends after Engine.IO's open packet. Pings are answered (ping ->
 * pong; Socket.IO "2" -> "3"); RFC 6455 framing without extensions or fragmentation (neither
 * server fragments); the upgrade needs 101 and the Sec-WebSocket-Accept of the key passed in.
 * Latency is the receive time (CLOCK_REALTIME, ms) minus the send time embedded in the content
 * as `t=<phase>:<ms>`, in 0.1 ms buckets up to 10 s, the last bucket for everything later.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HIST_BUCKETS 100001
#define READ_BUFFER (256 * 1024)
#define CONNECT_TIMEOUT_MS 30000.0

enum state { CONNECTING, UPGRADING, WAITING, OPEN, CLOSED };

typedef struct {
  int fd;
  enum state state;
  double started;
  size_t path; /* index into the connect job's paths */
  unsigned char *pending; /* bytes kept between reads: the response head so far or a cut frame */
  size_t pending_len;
} conn_t;

static const char MARK[] = "\"content\":\"t=";
static uint32_t hist[HIST_BUCKETS];
static long long received, closed_count;
static double last_at;
static int counting = 1;
static char phase = 'z';

static conn_t *conns;
static size_t nconns, conns_cap;
static int epfd;

/* The connect command being worked through. */
static struct {
  int active, sio, concurrency;
  struct sockaddr_in addr;
  char key[64], accept[64], origin[256], host[96];
  char **paths;
  size_t n, next, inflight, ok, failed;
  char first_error[200];
} job;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void reply(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void reply(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  putchar('\n');
  fflush(stdout);
}

static void finish_connect_job(void) {
  if (!job.active || job.next < job.n || job.inflight > 0) return;
  job.active = 0;
  if (job.first_error[0])
    reply("{\"type\":\"connected\",\"ok\":%zu,\"failed\":%zu,\"firstError\":\"%s\"}", job.ok, job.failed,
          job.first_error);
  else
    reply("{\"type\":\"connected\",\"ok\":%zu,\"failed\":%zu,\"firstError\":null}", job.ok, job.failed);
  for (size_t i = 0; i < job.n; i++) free(job.paths[i]);
  free(job.paths);
  job.paths = NULL;
}

static void close_conn(conn_t *c, const char *error) {
  if (c->state == CLOSED) return;
  int was_ready = c->state == OPEN;
  c->state = CLOSED;
  epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  free(c->pending);
  c->pending = NULL;
  c->pending_len = 0;
  if (was_ready) {
    if (!counting) return;
    /* The first few reasons go to stderr: a reader lost mid-run is worth explaining. */
    if (closed_count++ < 5) fprintf(stderr, "ws-loadgen: an open reader closed: %s\n", error ? error : "closed");
    return;
  }
  /* Not ready yet: this reader failed to open. */
  job.inflight--;
  job.failed++;
  if (!job.first_error[0]) snprintf(job.first_error, sizeof job.first_error, "%s", error ? error : "closed");
}

static void send_all(conn_t *c, const void *data, size_t len) {
  const unsigned char *p = data;
  while (len > 0) {
    ssize_t w = write(c->fd, p, len);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return close_conn(c, "write failed");
    p += w;
    len -= (size_t)w;
  }
}

static void send_frame(conn_t *c, int opcode, const unsigned char *payload, size_t n) {
  unsigned char frame[16 + 256];
  if (n > 256) n = 256; /* only pongs and Socket.IO's short control packets are ever sent */
  size_t h = 2;
  frame[0] = (unsigned char)(0x80 | opcode);
  if (n < 126) frame[1] = (unsigned char)(0x80 | n);
  else {
    frame[1] = 0x80 | 126;
    frame[2] = (unsigned char)(n >> 8);
    frame[3] = (unsigned char)n;
    h = 4;
  }
  uint32_t m = (uint32_t)rand();
  unsigned char mask[4] = {(unsigned char)m, (unsigned char)(m >> 8), (unsigned char)(m >> 16), (unsigned char)(m >> 24)};
  memcpy(frame + h, mask, 4);
  for (size_t i = 0; i < n; i++) frame[h + 4 + i] = payload[i] ^ mask[i & 3];
  send_all(c, frame, h + 4 + n);
}

static void became_ready(conn_t *c) {
  c->state = OPEN;
  job.inflight--;
  job.ok++;
}

static void on_marked(const unsigned char *p, size_t n) {
  const unsigned char *at = memmem(p, n, MARK, sizeof MARK - 1);
  if (!at) return;
  double t = now_ms();
  const unsigned char *start = at + sizeof MARK - 1;
  if ((size_t)(start - p) + 2 >= n || *start != (unsigned char)phase) return; /* an earlier phase's frame */
  double sent = strtod((const char *)start + 2, NULL);
  received++;
  last_at = t;
  double b = (t - sent) * 10;
  long i = b < 0 ? 0 : b > HIST_BUCKETS - 1 ? HIST_BUCKETS - 1 : (long)b;
  hist[i]++;
}

static void on_text(conn_t *c, const unsigned char *p, size_t n) {
  if (c->state == WAITING) {
    if (!job.sio) return became_ready(c); /* the gateway's history frame */
    if (n >= 1 && p[0] == '0' && !(n >= 2 && (p[1] == '0' || p[1] == '4'))) return send_frame(c, 1, (const unsigned char *)"40", 2);
    if (n >= 2 && p[0] == '4' && p[1] == '0') became_ready(c);
    return;
  }
  if (job.sio && n == 1 && p[0] == '2') return send_frame(c, 1, (const unsigned char *)"3", 1);
  on_marked(p, n);
}

/* Handles the frame at p and returns its length, or 0 when it is not all here yet. */
static size_t frame(conn_t *c, const unsigned char *p, size_t avail) {
  if (avail < 2) return 0;
  int opcode = p[0] & 0x0f;
  if (p[1] & 0x80) return close_conn(c, "the server masked a frame"), 0;
  uint64_t len = p[1] & 0x7f;
  size_t h = 2;
  if (len == 126) {
    if (avail < 4) return 0;
    len = ((uint64_t)p[2] << 8) | p[3];
    h = 4;
  } else if (len == 127) {
    if (avail < 10) return 0;
    len = 0;
    for (int i = 0; i < 8; i++) len = (len << 8) | p[2 + i];
    h = 10;
  }
  if (avail - h < len) return 0;
  if (opcode == 0x1) on_text(c, p + h, (size_t)len);
  else if (opcode == 0x9) send_frame(c, 0xa, p + h, (size_t)len);
  else if (opcode == 0x8) {
    char why[160];
    int code = len >= 2 ? (p[h] << 8) | p[h + 1] : 0;
    snprintf(why, sizeof why, "close frame %d %.*s", code, len > 2 ? (int)(len - 2 < 100 ? len - 2 : 100) : 0, p + h + 2);
    close_conn(c, why);
  }
  return h + (size_t)len;
}

static void keep(conn_t *c, const unsigned char *p, size_t n) {
  unsigned char *b = malloc(n);
  memcpy(b, p, n);
  free(c->pending);
  c->pending = b;
  c->pending_len = n;
}

static void on_bytes(conn_t *c, unsigned char *buf, size_t n) {
  unsigned char *joined = NULL;
  if (c->pending) {
    joined = malloc(c->pending_len + n);
    memcpy(joined, c->pending, c->pending_len);
    memcpy(joined + c->pending_len, buf, n);
    n += c->pending_len;
    buf = joined;
    free(c->pending);
    c->pending = NULL;
    c->pending_len = 0;
  }
  size_t at = 0;
  if (c->state == UPGRADING) {
    unsigned char *end = memmem(buf, n, "\r\n\r\n", 4);
    if (!end) {
      keep(c, buf, n);
      goto done;
    }
    *end = 0;
    char want[128];
    snprintf(want, sizeof want, "sec-websocket-accept: %s", job.accept);
    if (strncmp((char *)buf, "HTTP/1.1 101 ", 13) != 0 || !strcasestr((char *)buf, want)) {
      char *eol = strstr((char *)buf, "\r\n");
      if (eol) *eol = 0;
      char msg[160];
      snprintf(msg, sizeof msg, "upgrade refused: %.120s", (char *)buf);
      for (char *q = msg; *q; q++)
        if (*q == '"' || *q == '\\') *q = '\'';
      close_conn(c, msg);
      goto done;
    }
    c->state = WAITING;
    at = (size_t)(end - buf) + 4;
  }
  while (at < n && c->state != CLOSED) {
    size_t used = frame(c, buf + at, n - at);
    if (used == 0) {
      if (c->state != CLOSED) keep(c, buf + at, n - at);
      break;
    }
    at += used;
  }
done:
  free(joined);
}

static void start_connects(void) {
  while (job.active && job.next < job.n && (int)job.inflight < job.concurrency) {
    job.next++;
    if (nconns == conns_cap) {
      conns_cap = conns_cap ? conns_cap * 2 : 1024;
      conns = realloc(conns, conns_cap * sizeof *conns);
    }
    conn_t *c = &conns[nconns];
    memset(c, 0, sizeof *c);
    c->started = now_ms();
    job.inflight++;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (c->fd < 0) {
      job.inflight--;
      job.failed++;
      if (!job.first_error[0]) snprintf(job.first_error, sizeof job.first_error, "socket: %s", strerror(errno));
      continue;
    }
    nconns++;
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->state = CONNECTING;
    if (connect(c->fd, (struct sockaddr *)&job.addr, sizeof job.addr) < 0 && errno != EINPROGRESS) {
      c->state = UPGRADING; /* so close_conn counts it as a failed open */
      close_conn(c, strerror(errno));
      continue;
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u64 = nconns - 1};
    epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
    /* The request goes out once the connect completes (EPOLLOUT). */
    c->path = job.next - 1;
  }
  finish_connect_job();
}

static void on_writable(conn_t *c) {
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err) {
    c->state = UPGRADING;
    return close_conn(c, strerror(err));
  }
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)(c - conns)};
  epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
  c->state = UPGRADING;
  char req[1024];
  int n = snprintf(req, sizeof req,
                   "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nOrigin: %s\r\n\r\n",
                   job.paths[c->path], job.host, job.key, job.origin);
  send_all(c, req, (size_t)n);
}

static void check_timeouts(void) {
  if (!job.active) return;
  double t = now_ms();
  for (size_t i = 0; i < nconns; i++) {
    conn_t *c = &conns[i];
    if (c->state != CLOSED && c->state != OPEN && t - c->started > CONNECT_TIMEOUT_MS) {
      if (c->state == CONNECTING) c->state = UPGRADING;
      close_conn(c, "connect timed out");
    }
  }
}

static void close_all(void) {
  counting = 0;
  for (size_t i = 0; i < nconns; i++) {
    conn_t *c = &conns[i];
    if (c->state == CLOSED) continue;
    c->state = OPEN; /* not a failed open */
    close_conn(c, NULL);
  }
  nconns = 0;
  struct timespec half = {0, 500 * 1000 * 1000};
  nanosleep(&half, NULL);
  /* Readers lost count from connect to closeAll, across phases. */
  closed_count = 0;
  counting = 1;
  reply("{\"type\":\"closedAll\"}");
}

static void counts(const char *type, int with_hist) {
  printf("{\"type\":\"%s\",\"received\":%lld,\"lastAt\":%.3f,\"closed\":%lld", type, received, last_at, closed_count);
  if (with_hist) {
    printf(",\"hist\":[");
    int first = 1;
    for (long i = 0; i < HIST_BUCKETS; i++)
      if (hist[i]) {
        printf("%s[%ld,%u]", first ? "" : ",", i, hist[i]);
        first = 0;
      }
    printf("]");
  }
  reply("}");
}

/* stdin: commands; a connect's paths follow it, one per line. */
static char *in_buf;
static size_t in_len, in_cap;

static void on_line(char *line) {
  if (job.paths && job.next < job.n && !job.active) {
    job.paths[job.next++] = strdup(line);
    if (job.next == job.n) {
      job.next = 0;
      job.active = 1;
      start_connects();
    }
    return;
  }
  char cmd[16] = {0};
  sscanf(line, "%15s", cmd);
  if (strcmp(cmd, "connect") == 0) {
    char ip[64];
    int port;
    memset(&job, 0, sizeof job);
    if (sscanf(line, "connect %d %d %63s %d %63s %63s %255s %zu", &job.sio, &job.concurrency, ip, &port, job.key,
               job.accept, job.origin, &job.n) != 8 ||
        job.n == 0) {
      fprintf(stderr, "ws-loadgen: bad connect line: %s\n", line);
      exit(2);
    }
    job.addr.sin_family = AF_INET;
    job.addr.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, ip, &job.addr.sin_addr);
    snprintf(job.host, sizeof job.host, "%s:%d", ip, port);
    job.paths = calloc(job.n, sizeof *job.paths);
  } else if (strcmp(cmd, "count") == 0) counts("count", 0);
  else if (strcmp(cmd, "stats") == 0) counts("stats", 1);
  else if (strcmp(cmd, "reset") == 0) {
    received = 0;
    last_at = 0;
    memset(hist, 0, sizeof hist);
    if (strlen(line) >= 7) phase = line[6];
    reply("{\"type\":\"reset\"}");
  } else if (strcmp(cmd, "closeAll") == 0) close_all();
  else {
    fprintf(stderr, "ws-loadgen: unknown command: %s\n", line);
    exit(2);
  }
}

static void on_stdin(void) {
  if (in_cap - in_len < 65536) {
    in_cap = in_cap ? in_cap * 2 : 1 << 20;
    in_buf = realloc(in_buf, in_cap);
  }
  ssize_t r = read(0, in_buf + in_len, in_cap - in_len);
  if (r <= 0) exit(0); /* the orchestrator went away */
  in_len += (size_t)r;
  size_t start = 0;
  for (size_t i = 0; i < in_len; i++) {
    if (in_buf[i] != '\n') continue;
    in_buf[i] = 0;
    on_line(in_buf + start);
    start = i + 1;
  }
  memmove(in_buf, in_buf + start, in_len - start);
  in_len -= start;
}

int main(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  srand((unsigned)getpid());
  epfd = epoll_create1(0);
  struct epoll_event in = {.events = EPOLLIN, .data.u64 = UINT64_MAX};
  epoll_ctl(epfd, EPOLL_CTL_ADD, 0, &in);
  static unsigned char buf[READ_BUFFER];
  struct epoll_event evs[1024];
  reply("{\"type\":\"ready\"}");
  for (;;) {
    int n = epoll_wait(epfd, evs, 1024, job.active ? 100 : 1000);
    for (int i = 0; i < n; i++) {
      if (evs[i].data.u64 == UINT64_MAX) {
        on_stdin();
        continue;
      }
      conn_t *c = &conns[evs[i].data.u64];
      if (c->state == CLOSED) continue;
      if (c->state == CONNECTING) {
        on_writable(c);
        continue;
      }
      for (;;) {
        ssize_t r = read(c->fd, buf, sizeof buf);
        if (r > 0) {
          on_bytes(c, buf, (size_t)r);
          if (c->state == CLOSED || (size_t)r < sizeof buf) break;
          continue;
        }
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 && errno == EAGAIN) break;
        close_conn(c, r == 0 ? "end of stream" : strerror(errno));
        break;
      }
    }
    check_timeouts();
    start_connects();
    /* While frames keep coming, pause 1 ms between polls: the reads of a round share one wake-up
       instead of the server waking this process once per socket. It adds at most 1 ms to a reading. */
    if (n > 0 && !job.active) {
      struct timespec pause = {0, 1000 * 1000};
      nanosleep(&pause, NULL);
    }
  }
}
