// The baseline for `picket bench` and for picket's memory: the same model on the plain TfLite
// C API (TF 2.9), loaded as picket loads it (the file mapped, XNNPACK with its QS8 and QU8
// flags, the model's pages released once the interpreter is ready), then 10 warm-up and 100
// timed invokes. Prints the invoke time, the resident memory at each step, and the peak
// (ru_maxrss, as scripts/bench-vs-peer.sh measures picket and the peers). Built and run by
// baseline.sh.
//   capi MODEL [THREADS] [XNNPACK 1/0]
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include "tensorflow/lite/c/c_api.h"
typedef struct { int32_t num_threads; uint32_t flags; } XnnOpts;
extern XnnOpts TfLiteXNNPackDelegateOptionsDefault(void);
extern TfLiteDelegate* TfLiteXNNPackDelegateCreate(const XnnOpts*);
static int cmp(const void* a, const void* b) { double x = *(double*)a, y = *(double*)b; return x < y ? -1 : x > y; }
static void rss(const char* when) {
  long pages = 0, resident = 0;
  FILE* f = fopen("/proc/self/statm", "r");
  if (f && fscanf(f, "%ld %ld", &pages, &resident) == 2)
    printf("  RSS %6.1f MiB  %s\n", resident * 4096.0 / 1048576, when);
  if (f) fclose(f);
}
int main(int argc, char** argv) {
  int threads = argc > 2 ? atoi(argv[2]) : 1, xnn = argc > 3 ? atoi(argv[3]) : 1, runs = 100;
  int fd = argc > 1 ? open(argv[1], O_RDONLY) : -1;
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) { perror(argc > 1 ? argv[1] : "usage: capi MODEL"); return 1; }
  void* bytes = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (bytes == MAP_FAILED) { perror("mmap"); return 1; }
  TfLiteModel* m = TfLiteModelCreate(bytes, st.st_size);
  TfLiteInterpreterOptions* o = TfLiteInterpreterOptionsCreate();
  TfLiteInterpreterOptionsSetNumThreads(o, threads);
  if (xnn) { XnnOpts x = TfLiteXNNPackDelegateOptionsDefault(); x.num_threads = threads; x.flags |= 3;
    TfLiteInterpreterOptionsAddDelegate(o, TfLiteXNNPackDelegateCreate(&x)); }
  TfLiteInterpreter* it = m ? TfLiteInterpreterCreate(m, o) : NULL;
  if (!it || TfLiteInterpreterAllocateTensors(it) != kTfLiteOk) { fputs("load failed\n", stderr); return 1; }
  rss("interpreter ready");
  madvise(bytes, st.st_size, MADV_DONTNEED);
  rss("model pages released");
  TfLiteTensor* in = TfLiteInterpreterGetInputTensor(it, 0);
  memset(TfLiteTensorData(in), 100, TfLiteTensorByteSize(in));
  double t[100];
  for (int i = 0; i < runs + 10; i++) {
    struct timespec a, b; clock_gettime(CLOCK_MONOTONIC, &a);
    if (TfLiteInterpreterInvoke(it) != kTfLiteOk) { fputs("invoke failed\n", stderr); return 1; }
    clock_gettime(CLOCK_MONOTONIC, &b);
    if (i >= 10) t[i - 10] = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
  }
  rss("after the invokes");
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  qsort(t, runs, sizeof t[0], cmp);
  printf("C API: threads %d xnnpack %d: invoke median %.2f ms p99 %.2f ms, peak RSS %.1f MiB\n",
         threads, xnn, t[49], t[98], ru.ru_maxrss / 1024.0);
  return 0;
}
