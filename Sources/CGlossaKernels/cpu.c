// Which kernel family runs: AVX-512 VNNI (3), AVX2 (2) or portable (1). Decided once per process
// from the CPU, and capped per thread by tests that compare the families.
#include "glossa_kernels.h"
#include <stdlib.h>
#include <string.h>

// What the CPU allows (or GLOSSA_KERNELS), found on first use: -1 until then.
static int kernel_level = -1;
// A cap set by glossa_set_kernel_level, for the calling thread only: tests compare the paths
// while other threads run the engine on the best one.
static _Thread_local int thread_cap = 0;

static int cpu_level(void) {
    const int avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                       __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni") &&
                       __builtin_cpu_supports("avx512dq");
    return avx512 ? 3 : __builtin_cpu_supports("avx2") ? 2 : 1;
}

int glossa_kernel_level(void) {
    if (kernel_level < 0) {
        // GLOSSA_KERNELS=avx2 runs the AVX2 kernels on an AVX-512 machine (to test and time them).
        const char *forced = getenv("GLOSSA_KERNELS");
        const int cpu = cpu_level();
        kernel_level = forced && strcmp(forced, "avx2") == 0 && cpu > 2 ? 2 : cpu;
    }
    return thread_cap && thread_cap < kernel_level ? thread_cap : kernel_level;
}

int glossa_set_kernel_level(int level) {
    thread_cap = level < 1 ? 1 : level;
    return glossa_kernel_level();
}
