// Process-wide allocator settings, made once at start (GlossaEngine's Engine.configureProcess).
#include "glossa_kernels.h"
#include <malloc.h>

void glossa_keep_buffers_in_heap(void) {
    // Allocations up to 512 MB come from the heap, and up to 1 GB of freed heap stays mapped:
    // a step's buffers are then reused rather than mapped and zeroed by the kernel every layer.
    mallopt(M_MMAP_THRESHOLD, 512 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
}
