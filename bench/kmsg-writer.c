// Writer of bench/kmsg-live.bench.ts: writes argv[1] records into /dev/kmsg at argv[2] records/s
// (0: as fast as it can), one write(2) per record as /dev/kmsg takes them, cycling through the
// lines given on stdin. Paced in 1 ms steps on CLOCK_MONOTONIC. A C writer because one JS writer
// reached only 120k-163k writes/s here, below the 200k/s the bench must offer.
// Prints "<records written> <seconds>".
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  long n = atol(argv[1]);
  double rate = atof(argv[2]);
  static char text[1 << 20];
  size_t len = fread(text, 1, sizeof text - 1, stdin);
  text[len] = '\0';
  // line starts and lengths (each written with its newline)
  static char* line[4096];
  static size_t size[4096];
  int lines = 0;
  for (char* p = text; *p && lines < 4096;) {
    char* nl = strchr(p, '\n');
    if (!nl) break;
    line[lines] = p;
    size[lines++] = (size_t)(nl - p) + 1;
    p = nl + 1;
  }
  if (lines == 0) return 2;
  int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
  if (fd < 0) { perror("/dev/kmsg"); return 1; }
  double t0 = now();
  long i = 0;
  while (i < n) {
    long due = n;
    if (rate > 0) {
      due = (long)((now() - t0) * rate) + 1;
      if (due > n) due = n;
    }
    for (; i < due; i++) {
      if (write(fd, line[i % lines], size[i % lines]) < 0) { perror("write /dev/kmsg"); return 1; }
    }
    if (rate > 0 && i < n) {
      struct timespec ms = {0, 1000000};
      nanosleep(&ms, NULL);
    }
  }
  printf("%ld %.6f\n", i, now() - t0);
  return 0;
}
