// Quantized weight formats (GGUF/ggml block layouts) and the kernels that use them.
//
// Written from the published block layouts. Dot products take activations quantized per
// block the way llama.cpp does (Q8_0 for the 32-element formats, Q8_K for the K-quants), so
// integer arithmetic does the bulk of the work. Functions are compiled for AVX-512, AVX2 and
// baseline x86-64 and picked at load time by the CPU (target_clones).
#ifndef GLOSSA_KERNELS_H
#define GLOSSA_KERNELS_H

#include <stdint.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

// ggml type ids.
enum {
    GLOSSA_TYPE_F32 = 0, GLOSSA_TYPE_F16 = 1, GLOSSA_TYPE_Q4_0 = 2, GLOSSA_TYPE_Q4_1 = 3,
    GLOSSA_TYPE_Q5_0 = 6, GLOSSA_TYPE_Q5_1 = 7, GLOSSA_TYPE_Q8_0 = 8,
    GLOSSA_TYPE_Q4_K = 12, GLOSSA_TYPE_Q5_K = 13, GLOSSA_TYPE_Q6_K = 14, GLOSSA_TYPE_Q8_K = 15,
    GLOSSA_TYPE_BF16 = 30,
};

/// Elements per block and bytes per block of a type (0 when unsupported).
int64_t glossa_block_elements(int32_t type);
int64_t glossa_block_bytes(int32_t type);
/// The activation format a weight type's dot product wants (Q8_0, Q8_K or F32).
int32_t glossa_vec_dot_type(int32_t type);

/// Widens `count` elements (a multiple of the block size) to float.
int glossa_dequantize(int32_t type, const void *src, float *dst, int64_t count);

/// Quantizes `count` floats to the activation format `type` (Q8_0 or Q8_K).
void glossa_quantize_activations(int32_t type, const float *src, void *dst, int64_t count);

/// Y[t * y_stride + r] = dot(row r of W, activation row t) for r in [row_begin, row_end) and
/// t < tokens: W has `columns` per row in `type`; activation rows, already in
/// glossa_vec_dot_type(type) (F32 for float weights), are `x_stride` bytes apart. Each row's
/// arithmetic is the same whatever `tokens` is (batch invariance).
void glossa_matmul(int32_t type, const void *weights, int64_t columns, int64_t row_begin, int64_t row_end,
                   const void *x, int64_t x_stride, int64_t tokens, float *y, int64_t y_stride);

/// Attention of one query row for the `group` query heads that share one key/value head:
/// q and out hold the group's heads (d each) back to back; keys and values are the n cached
/// positions, `stride` elements apart, of `kv_type` (GLOSSA_TYPE_F32 or GLOSSA_TYPE_F16);
/// `scores` has room for n floats. softmax(q k^T scale) v, with the fixed arithmetic described
/// in attention.c (the same bits on every kernel family).
void glossa_attention(const float *q, int64_t group, int64_t d, const void *keys, const void *values, int32_t kv_type,
                      int64_t stride, int64_t n, float scale, float *scores, float *out);

/// Writes `count` floats to a cache of `kv_type` (f16: rounded to nearest even).
void glossa_store_kv(int32_t kv_type, const float *src, void *dst, int64_t count);

/// x = softmax(x) in place, with the arithmetic of glossa_attention's softmax (the same bits on
/// every kernel family).
void glossa_softmax(float *x, int64_t count);

/// out[i] = silu(gate[i]) * up[i], with attention.c's exponential.
void glossa_swiglu(const float *gate, const float *up, float *out, int64_t count);

/// The exponential used by glossa_attention and glossa_swiglu, one value at a time.
float glossa_exp(float x);

/// Kernel family in use: 3 = AVX-512 VNNI, 2 = AVX2, 1 = portable. Starts at the best the CPU
/// has (GLOSSA_KERNELS=avx2 caps it at 2). Levels 3 and 2 give the same bits for the same
/// inputs, so between them this only changes speed; level 1 rounds differently.
int glossa_kernel_level(void);
/// Caps the family for the calling thread (at most what the CPU and GLOSSA_KERNELS allow);
/// returns the level in effect there. Other threads keep theirs.
int glossa_set_kernel_level(int level);

/// A spin-wait hint to the CPU (PAUSE on x86).
static inline void glossa_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/// Large buffers (a step's activations) are served from the heap and reused rather than mapped
/// and zeroed afresh by the kernel on every allocation (glibc's mmap and trim thresholds).
void glossa_keep_buffers_in_heap(void);
// CPUs in this process's affinity mask (sched_getaffinity); 0 when it cannot be read.
int glossa_affinity_cpu_count(void);

#ifdef __cplusplus
}
#endif
#endif
