// glossa_matmul: one weight matrix times a batch of activation rows, on the fastest path that
// applies (dot_avx512.c, dot_avx2.c, then row by row). Every path gives a (row, token) the same
// arithmetic whatever the batch, so a sequence's logits do not depend on what it was batched with.
#include "dispatch.h"
#include <math.h>

static inline float dot_row(int32_t type, const void *row, const void *x, int64_t nb, int64_t columns, int avx2) {
    switch (type) {
    case GLOSSA_TYPE_Q8_0: return avx2 ? glossa_dot_q8_0_avx2(row, x, nb) : glossa_dot_q8_0(row, x, nb);
    case GLOSSA_TYPE_Q4_0: return glossa_dot_q4_0(row, x, nb);
    case GLOSSA_TYPE_Q5_0: return avx2 ? glossa_dot_q5_0_avx2(row, x, nb) : glossa_dot_q5_0(row, x, nb);
    case GLOSSA_TYPE_Q4_K: return avx2 ? glossa_dot_q4_K_avx2(row, x, nb) : glossa_dot_q4_K(row, x, nb);
    case GLOSSA_TYPE_Q5_K: return glossa_dot_q5_K(row, x, nb);
    case GLOSSA_TYPE_Q6_K: return avx2 ? glossa_dot_q6_K_avx2(row, x, nb) : glossa_dot_q6_K(row, x, nb);
    case GLOSSA_TYPE_F32: return avx2 ? glossa_dot_f32_avx2(row, x, columns) : glossa_dot_f32(row, x, columns);
    case GLOSSA_TYPE_F16: return glossa_dot_f16(row, x, columns);
    case GLOSSA_TYPE_BF16: return glossa_dot_bf16(row, x, columns);
    default: return NAN;
    }
}

void glossa_matmul(int32_t type, const void *w, int64_t columns, int64_t begin, int64_t end,
                   const void *x, int64_t x_stride, int64_t tokens, float *y, int64_t y_stride) {
    const int64_t be = glossa_block_elements(type), bb = glossa_block_bytes(type);
    if (!be) return;
    const int64_t nb = columns / be, row_bytes = nb * bb;
    if (glossa_matmul_q8_0_vnni(type, w, columns, begin, end, x, x_stride, tokens, y, y_stride)) return;
    if (glossa_matmul_k_vnni(type, w, columns, begin, end, x, x_stride, tokens, y, y_stride)) return;
    const int avx2 = glossa_have_avx2();
    if (avx2 && glossa_matmul_avx2(type, w, columns, begin, end, x, x_stride, tokens, y, y_stride)) return;
    // Weight row outer, tokens inner: a row is read from memory once for the whole batch.
    for (int64_t r = begin; r < end; r++) {
        const void *row = (const uint8_t *)w + r * row_bytes;
        for (int64_t t = 0; t < tokens; t++) {
            y[t * y_stride + r] = dot_row(type, row, (const uint8_t *)x + t * x_stride, nb, columns, avx2);
        }
    }
}
