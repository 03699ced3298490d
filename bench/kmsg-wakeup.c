// Baseline of bench/latency.bench.ts: the plainest /dev/kmsg reader (poll, then read one record,
// as the daemon's reader thread does). For each record whose text contains argv[1] it writes
// "<CLOCK_MONOTONIC µs when read>\t<record>" to stdout: how late a C program on this machine
// wakes for a kernel record, against which the daemon's own delay is measured.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0 || lseek(fd, 0, SEEK_END) < 0) { perror("/dev/kmsg"); return 1; }
  static char buf[16384], out[16500];
  struct pollfd p = {fd, POLLIN, 0};
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf - 1);
    if (n < 0 && errno == EAGAIN) { poll(&p, 1, -1); continue; }
    if (n < 0 && errno == EPIPE) continue;
    if (n <= 0) return 1;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    buf[n] = '\0';
    if (!strstr(buf, argv[1])) continue;
    char* nl = strchr(buf, '\n');
    if (nl) *nl = '\0';
    int len = snprintf(out, sizeof out, "%.1f\t%s\n", ts.tv_sec * 1e6 + ts.tv_nsec / 1e3, buf);
    if (write(1, out, len) < 0) return 1;
  }
}
