// The GGUF block layouts and the helpers that read them, shared by the kernel files (not part
// of the public header).
#ifndef GLOSSA_BLOCKS_H
#define GLOSSA_BLOCKS_H

#include "glossa_kernels.h"
#include <string.h>
#include <immintrin.h>

// Elements per block: the 32-element formats (Q4_0, Q5_0, Q8_0) and the K-quants' super-blocks.
#define QK 32
#define QKK 256

// Half to float by table: without F16C in every compiled variant, a _Float16 cast becomes a
// library call per scale.
extern float glossa_half_table[65536];

static inline float half_to_float(uint16_t h) { return glossa_half_table[h]; }
static inline uint16_t float_to_half(float x) {
    _Float16 f = (_Float16)x;
    uint16_t h;
    memcpy(&h, &f, 2);
    return h;
}
static inline float bf16_to_float(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

// Block layouts (packed, little-endian), as in GGUF.
typedef struct { uint16_t d; int8_t qs[QK]; } block_q8_0;                       // 34 B
typedef struct { uint16_t d; uint8_t qs[QK / 2]; } block_q4_0;                  // 18 B
typedef struct { uint16_t d; uint8_t qh[4]; uint8_t qs[QK / 2]; } block_q5_0;   // 22 B
typedef struct { uint16_t d, dmin; uint8_t scales[12]; uint8_t qs[QKK / 2]; } block_q4_K;              // 144 B
typedef struct { uint16_t d, dmin; uint8_t scales[12]; uint8_t qh[QKK / 8]; uint8_t qs[QKK / 2]; } block_q5_K;  // 176 B
typedef struct { uint8_t ql[QKK / 2]; uint8_t qh[QKK / 4]; int8_t scales[QKK / 16]; uint16_t d; } block_q6_K;  // 210 B
typedef struct { float d; int8_t qs[QKK]; int16_t bsums[QKK / 16]; } block_q8_K;                        // 292 B

// Sub-block scale and min of the K-quants: 8 six-bit pairs packed into 12 bytes.
static inline void scale_min_k4(int j, const uint8_t *q, uint8_t *d, uint8_t *m) {
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

// Q6_K elements l, l + 32, l + 64, l + 96 of a half block (values - 32).
static inline void q6_K_values(const uint8_t *ql, const uint8_t *qh, int l, int *q1, int *q2, int *q3, int *q4) {
    *q1 = (int)((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
    *q2 = (int)((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
    *q3 = (int)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
    *q4 = (int)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
}

// Half a Q6_K block (128 values) as four vectors of 6-bit values (0..63), in activation order.
// Here rather than in dot_avx2.c because the AVX-512 kernels unpack Q6_K the same way.
__attribute__((target("avx2,fma"))) static inline void unpack_q6_K_half_avx2(const uint8_t *ql, const uint8_t *qh, __m256i q[4]) {
    const __m256i low4 = _mm256_set1_epi8(0x0F), low2 = _mm256_set1_epi8(0x03);
    const __m256i l0 = _mm256_loadu_si256((const __m256i *)ql);
    const __m256i l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
    const __m256i h = _mm256_loadu_si256((const __m256i *)qh);
    q[0] = _mm256_or_si256(_mm256_and_si256(l0, low4), _mm256_slli_epi16(_mm256_and_si256(h, low2), 4));
    q[1] = _mm256_or_si256(_mm256_and_si256(l1, low4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 2), low2), 4));
    q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), low4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 4), low2), 4));
    q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), low4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 6), low2), 4));
}

#endif
