// Baseline of bench/kmsg-live.bench.ts: the plainest /dev/kmsg reader (poll, then read one record
// per read(2)), counting the records whose text contains argv[1] and the overruns (EPIPE: the
// ring wrapped past this reader). It stops at a record containing "<argv[1]> end" and prints
// "<records> <overruns> <seconds from first to last counted record>".
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  char end[512];
  snprintf(end, sizeof end, "%s end", argv[1]);
  int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0 || lseek(fd, 0, SEEK_END) < 0) { perror("/dev/kmsg"); return 1; }
  printf("ready\n");
  fflush(stdout);
  static char buf[16384];
  struct pollfd p = {fd, POLLIN, 0};
  long got = 0, overruns = 0;
  double first = 0, last = 0;
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf - 1);
    if (n < 0 && errno == EAGAIN) { poll(&p, 1, -1); continue; }
    if (n < 0 && errno == EPIPE) { overruns++; continue; }
    if (n <= 0) { perror("read /dev/kmsg"); return 1; }
    buf[n] = '\0';
    if (strstr(buf, end)) break;
    if (!strstr(buf, argv[1])) continue;
    last = now();
    if (got++ == 0) first = last;
  }
  printf("%ld %ld %.6f\n", got, overruns, last - first);
  return 0;
}
