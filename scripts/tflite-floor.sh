#!/usr/bin/env bash
# The memory floor of the runtime itself: a C program that only maps the shipped model, builds
# TF 2.9's interpreter with the XNNPACK delegate (QS8 and QU8, one thread) as picket does,
# releases the model's pages, invokes it 20 times, and prints its RSS along the way and its peak
# (ru_maxrss, as scripts/bench-vs-peer.sh measures picket and the peers). With --no-xnnpack it
# runs TFLite's own kernels. docs/running.md ("Memory") compares picket's peak with it.
#
#   scripts/tflite-floor.sh [--no-xnnpack]
source "$(dirname "$0")/lib.sh"
cd "$PICKET_ROOT"

xnnpack=1
case ${1:-} in
  --no-xnnpack) xnnpack=0 ;;
  "") ;;
  *) die "usage: $0 [--no-xnnpack]" ;;
esac
lib=$(tflite_dir tf29 x86_64)
[ -f "$lib/libtensorflowlite_c.so" ] || die "no TF 2.9 library in $lib: run scripts/bootstrap.sh"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat >"$dir/floor.c" <<'C'
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>

/* The TF 2.9 C API as picket declares it (src/detect/tflite_ffi.rs). */
typedef struct { int32_t num_threads; uint32_t flags; } XnnpackOptions;
void *TfLiteModelCreate(const void *data, size_t size);
void *TfLiteInterpreterOptionsCreate(void);
void TfLiteInterpreterOptionsSetNumThreads(void *options, int threads);
void TfLiteInterpreterOptionsAddDelegate(void *options, void *delegate);
void *TfLiteInterpreterCreate(void *model, void *options);
int TfLiteInterpreterAllocateTensors(void *interpreter);
int TfLiteInterpreterInvoke(void *interpreter);
XnnpackOptions TfLiteXNNPackDelegateOptionsDefault(void);
void *TfLiteXNNPackDelegateCreate(const XnnpackOptions *options);

static void rss(const char *when) {
  long pages = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (f && fscanf(f, "%ld %ld", &pages, &resident) == 2)
    printf("%-28s RSS %6.1f MiB\n", when, resident * 4096.0 / 1048576);
  if (f) fclose(f);
}

int main(int argc, char **argv) {
  if (argc != 3) return 2;
  int fd = open(argv[1], O_RDONLY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) { perror(argv[1]); return 1; }
  void *bytes = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (bytes == MAP_FAILED) { perror("mmap"); return 1; }
  rss("libraries loaded");
  void *model = TfLiteModelCreate(bytes, st.st_size);
  void *options = TfLiteInterpreterOptionsCreate();
  TfLiteInterpreterOptionsSetNumThreads(options, 1);
  if (atoi(argv[2])) {
    XnnpackOptions x = TfLiteXNNPackDelegateOptionsDefault();
    x.num_threads = 1;
    x.flags |= 0x1 | 0x2; /* QS8 | QU8 */
    TfLiteInterpreterOptionsAddDelegate(options, TfLiteXNNPackDelegateCreate(&x));
  }
  void *interp = model ? TfLiteInterpreterCreate(model, options) : NULL;
  if (!interp || TfLiteInterpreterAllocateTensors(interp) != 0) { fputs("load failed\n", stderr); return 1; }
  rss("interpreter ready");
  madvise(bytes, st.st_size, MADV_DONTNEED);
  rss("model pages released");
  for (int i = 0; i < 20; i++)
    if (TfLiteInterpreterInvoke(interp) != 0) { fputs("invoke failed\n", stderr); return 1; }
  rss("after 20 invokes");
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("%-28s     %6.1f MiB\n", "peak (ru_maxrss)", ru.ru_maxrss / 1024.0);
  return 0;
}
C
cc -O2 -o "$dir/floor" "$dir/floor.c" -L"$lib" -ltensorflowlite_c -Wl,-rpath,"$lib"
"$dir/floor" models/ssd_mobilenetv2_oidv4_int8_u8in.tflite "$xnnpack" 2>/dev/null
