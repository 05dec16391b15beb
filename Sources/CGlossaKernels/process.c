// Process-wide settings and facts: allocator settings, made once at start (GlossaEngine's
// Engine.configureProcess), and the CPUs the process may run on (CPUAllowance).
#define _GNU_SOURCE
#include "glossa_kernels.h"
#include <errno.h>
#include <malloc.h>
#include <sched.h>

void glossa_keep_buffers_in_heap(void) {
    // Allocations up to 512 MB come from the heap, and up to 1 GB of freed heap stays mapped:
    // a step's buffers are then reused rather than mapped and zeroed by the kernel every layer.
    mallopt(M_MMAP_THRESHOLD, 512 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

int glossa_affinity_cpu_count(void) {
    // The kernel refuses a mask smaller than its own CPU count (EINVAL): start at 1,024 CPUs
    // (glibc's cpu_set_t) and grow, up to 2^20 CPUs.
    for (int cpus = 1024; cpus <= (1 << 20); cpus *= 2) {
        cpu_set_t *set = CPU_ALLOC(cpus);
        if (!set) return 0;
        const size_t size = CPU_ALLOC_SIZE(cpus);
        CPU_ZERO_S(size, set);
        if (sched_getaffinity(0, size, set) == 0) {
            const int count = CPU_COUNT_S(size, set);
            CPU_FREE(set);
            return count;
        }
        const int error = errno;
        CPU_FREE(set);
        if (error != EINVAL) return 0;
    }
    return 0;
}
