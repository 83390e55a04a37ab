// The floor for picket's LiteRT backend: the same model on LiteRT 2.3's CompiledModel C API
// (libLiteRt.so, dlopened), loaded as picket loads it (the file mapped, CPU options in LiteRT's
// text form with XNNPACK's QS8 and QU8 flags, tensor buffers made once over our own memory),
// then 10 warm-up and 100 timed runs. Prints the run time, the resident memory at each step and
// the peak (ru_maxrss, as scripts/bench-vs-peer.sh measures picket). Built and run by
// baseline.sh. The few declarations it needs are written out here: 2.3.0 ships no headers.
//   litert LIBRARY MODEL [THREADS] [WEIGHT_CACHE]
#include <dlfcn.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

typedef void* H;
typedef struct { int32_t element_type; uint32_t rank_bits; int32_t dims[8]; uint32_t strides[8]; } Ranked;
typedef struct { float scale; int64_t zero_point; } PerTensor;
static int cmp(const void* a, const void* b) { double x = *(double*)a, y = *(double*)b; return x < y ? -1 : x > y; }
static void rss(const char* when) {
  long pages = 0, resident = 0, shared = 0;
  FILE* f = fopen("/proc/self/statm", "r");
  if (f && fscanf(f, "%ld %ld %ld", &pages, &resident, &shared) == 3)
    printf("  RSS %6.1f MiB (anonymous %5.1f)  %s\n", resident * 4096.0 / 1048576,
           (resident - shared) * 4096.0 / 1048576, when);
  if (f) fclose(f);
}
static void* lib;
static void* sym(const char* name) {
  void* p = dlsym(lib, name);
  if (!p) { fprintf(stderr, "%s: no symbol %s\n", "libLiteRt.so", name); exit(1); }
  return p;
}
#define CALL(name, ...) do { int s = ((int (*)())sym(#name))(__VA_ARGS__); \
  if (s) { fprintf(stderr, "%s: status %d\n", #name, s); return 1; } } while (0)
static void release(void* data) { free(data); }
int main(int argc, char** argv) {
  if (argc < 3) { fputs("usage: litert LIBRARY MODEL [THREADS] [WEIGHT_CACHE]\n", stderr); return 1; }
  int threads = argc > 3 ? atoi(argv[3]) : 1, runs = 100;
  lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!lib) { fprintf(stderr, "%s\n", dlerror()); return 1; }
  int fd = open(argv[2], O_RDONLY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) { perror(argv[2]); return 1; }
  void* bytes = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (bytes == MAP_FAILED) { perror("mmap"); return 1; }
  H env, model, opts, cpu, cm, sig, t, in[1], out[2];
  CALL(LiteRtCreateEnvironment, 0, NULL, &env);
  CALL(LiteRtCreateModelFromBuffer, env, bytes, (size_t)st.st_size, &model);
  CALL(LiteRtCreateOptions, &opts);
  CALL(LiteRtSetOptionsHardwareAccelerators, opts, 1);
  char* text = malloc(4096);
  int n = snprintf(text, 4096, "num_threads = %d\nflags = 3\n", threads);
  if (argc > 4) snprintf(text + n, 4096 - n, "weight_cache_file_path = \"%s\"\n", argv[4]);
  CALL(LiteRtCreateOpaqueOptions, "xnnpack", text, release, &cpu);
  CALL(LiteRtAddOpaqueOptions, opts, cpu);
  CALL(LiteRtCreateCompiledModel, env, model, opts, &cm);
  rss("compiled model ready");
  madvise(bytes, st.st_size, MADV_DONTNEED);
  rss("model pages released");
  CALL(LiteRtGetModelSignature, model, (size_t)0, &sig);
  for (int k = 0; k < 3; k++) {
    Ranked r;
    if (k == 0) CALL(LiteRtGetSignatureInputTensorByIndex, sig, (size_t)0, &t);
    else CALL(LiteRtGetSignatureOutputTensorByIndex, sig, (size_t)(k - 1), &t);
    CALL(LiteRtGetRankedTensorType, t, &r);
    size_t len = 1;
    for (unsigned d = 0; d < (r.rank_bits & 0x7f); d++) len *= (size_t)r.dims[d];
    void* mem = aligned_alloc(64, (len + 63) / 64 * 64);
    memset(mem, 100, len);
    CALL(LiteRtCreateTensorBufferFromHostMemory, &r, mem, len, NULL, k == 0 ? &in[0] : &out[k - 1]);
  }
  double ms[100];
  for (int i = 0; i < runs + 10; i++) {
    struct timespec a, b; clock_gettime(CLOCK_MONOTONIC, &a);
    CALL(LiteRtRunCompiledModel, cm, (size_t)0, (size_t)1, in, (size_t)2, out);
    clock_gettime(CLOCK_MONOTONIC, &b);
    if (i >= 10) ms[i - 10] = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
  }
  rss("after the runs");
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  qsort(ms, runs, sizeof ms[0], cmp);
  printf("LiteRT CompiledModel: threads %d: run median %.2f ms p99 %.2f ms, peak RSS %.1f MiB\n",
         threads, ms[49], ms[98], ru.ru_maxrss / 1024.0);
  return 0;
}
