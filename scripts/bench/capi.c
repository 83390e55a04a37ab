// The baseline for `picket bench`: the same model on the plain TfLite C API (TF 2.9), with
// XNNPACK and its QS8 flag, 10 warm-up then 100 timed invokes. Built and run by baseline.sh.
//   capi MODEL [THREADS] [XNNPACK 1/0]
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "tensorflow/lite/c/c_api.h"
typedef struct { int32_t num_threads; uint32_t flags; } XnnOpts;
extern XnnOpts TfLiteXNNPackDelegateOptionsDefault(void);
extern TfLiteDelegate* TfLiteXNNPackDelegateCreate(const XnnOpts*);
static int cmp(const void* a, const void* b) { double x = *(double*)a, y = *(double*)b; return x < y ? -1 : x > y; }
int main(int argc, char** argv) {
  int threads = argc > 2 ? atoi(argv[2]) : 1, xnn = argc > 3 ? atoi(argv[3]) : 1, runs = 100;
  TfLiteModel* m = TfLiteModelCreateFromFile(argv[1]);
  TfLiteInterpreterOptions* o = TfLiteInterpreterOptionsCreate();
  TfLiteInterpreterOptionsSetNumThreads(o, threads);
  if (xnn) { XnnOpts x = TfLiteXNNPackDelegateOptionsDefault(); x.num_threads = threads; x.flags |= 3;
    TfLiteInterpreterOptionsAddDelegate(o, TfLiteXNNPackDelegateCreate(&x)); }
  TfLiteInterpreter* it = TfLiteInterpreterCreate(m, o);
  TfLiteInterpreterAllocateTensors(it);
  TfLiteTensor* in = TfLiteInterpreterGetInputTensor(it, 0);
  memset(TfLiteTensorData(in), 100, TfLiteTensorByteSize(in));
  double t[100];
  for (int i = 0; i < runs + 10; i++) {
    struct timespec a, b; clock_gettime(CLOCK_MONOTONIC, &a);
    TfLiteInterpreterInvoke(it);
    clock_gettime(CLOCK_MONOTONIC, &b);
    if (i >= 10) t[i - 10] = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
  }
  qsort(t, runs, sizeof t[0], cmp);
  printf("C API: threads %d xnnpack %d: invoke median %.2f ms p99 %.2f ms\n", threads, xnn, t[49], t[98]);
  return 0;
}
