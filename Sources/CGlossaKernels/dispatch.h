// The kernel paths that the public entry points choose between, one file per instruction set:
//   dot_portable.c   one weight row against one activation row, any CPU (target_clones)
//   dot_avx2.c       the same for the formats of the default model, and four tokens at a time
//   dot_avx512.c     whole products on AVX-512 VNNI (row x token tiles)
// matmul.c picks the path per call from glossa_kernel_level() (cpu.c). Not part of the public
// header: these are internal to the library.
#ifndef GLOSSA_DISPATCH_H
#define GLOSSA_DISPATCH_H

#include "blocks.h"

#define AVX2_FMA __attribute__((target("avx2,fma")))
// One copy per x86-64 level, picked by the loader (an ifunc) for the CPU it runs on.
#define CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))

static inline int glossa_have_avx2(void) { return glossa_kernel_level() >= 2; }
static inline int glossa_have_avx512_vnni(void) { return glossa_kernel_level() >= 3; }

// dot_portable.c: `nb` blocks (or `n` elements) of one weight row against one activation row.
CLONES float glossa_dot_q8_0(const block_q8_0 *x, const block_q8_0 *y, int64_t nb);
CLONES float glossa_dot_q4_0(const block_q4_0 *x, const block_q8_0 *y, int64_t nb);
CLONES float glossa_dot_q5_0(const block_q5_0 *x, const block_q8_0 *y, int64_t nb);
float glossa_dot_q4_K(const block_q4_K *x, const block_q8_K *y, int64_t nb);
float glossa_dot_q5_K(const block_q5_K *x, const block_q8_K *y, int64_t nb);
CLONES float glossa_dot_q6_K(const block_q6_K *x, const block_q8_K *y, int64_t nb);
CLONES float glossa_dot_f32(const float *x, const float *y, int64_t n);
CLONES float glossa_dot_f16(const uint16_t *x, const float *y, int64_t n);
CLONES float glossa_dot_bf16(const uint16_t *x, const float *y, int64_t n);

// dot_avx2.c: the same products for five formats, the same bits on AVX2 and AVX-512 machines.
AVX2_FMA float glossa_dot_q8_0_avx2(const block_q8_0 *x, const block_q8_0 *y, int64_t nb);
AVX2_FMA float glossa_dot_q5_0_avx2(const block_q5_0 *x, const block_q8_0 *y, int64_t nb);
AVX2_FMA float glossa_dot_q4_K_avx2(const block_q4_K *x, const block_q8_K *y, int64_t nb);
AVX2_FMA float glossa_dot_q6_K_avx2(const block_q6_K *x, const block_q8_K *y, int64_t nb);
AVX2_FMA float glossa_dot_f32_avx2(const float *x, const float *y, int64_t n);

// Whole products (glossa_matmul's arguments) for batches of tokens; each returns 0, having done
// nothing, when it does not apply to the type or the batch (the VNNI ones also check the CPU;
// the caller checks AVX2).
int glossa_matmul_avx2(int32_t type, const void *w, int64_t columns, int64_t begin, int64_t end,
                       const void *x, int64_t x_stride, int64_t tokens, float *y, int64_t y_stride);
int glossa_matmul_q8_0_vnni(int32_t type, const void *w, int64_t columns, int64_t begin, int64_t end,
                            const void *x, int64_t x_stride, int64_t tokens, float *y, int64_t y_stride);
int glossa_matmul_k_vnni(int32_t type, const void *w, int64_t columns, int64_t begin, int64_t end,
                         const void *x, int64_t x_stride, int64_t tokens, float *y, int64_t y_stride);

#endif
