// AVX2 dot products for the formats that hold most of the default model (Q5_0, Q8_0, Q4_K,
// Q6_K) and for F32 rows, one token at a time and four at a time. They run on AVX2 and AVX-512
// machines alike (GLOSSA_KERNELS=avx2, or where dot_avx512.c does not apply), and the
// AVX-512 kernels reproduce their float arithmetic, so levels 2 and 3 give the same bits.
#include "dispatch.h"
#include <stdlib.h>

// Signed int8 products through maddubs: |a| (unsigned) times b carrying a's sign.

AVX2_FMA static inline __m256 block_product_avx2(__m256i a, __m256i b) {
    const __m256i ua = _mm256_sign_epi8(a, a);
    const __m256i sb = _mm256_sign_epi8(b, a);
    const __m256i pairs = _mm256_maddubs_epi16(ua, sb);
    return _mm256_cvtepi32_ps(_mm256_madd_epi16(pairs, _mm256_set1_epi16(1)));
}

AVX2_FMA static inline float horizontal_sum_avx2(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

AVX2_FMA float glossa_dot_q8_0_avx2(const block_q8_0 *x, const block_q8_0 *y, int64_t nb) {
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < nb; i++) {
        const __m256 d = _mm256_set1_ps(half_to_float(x[i].d) * half_to_float(y[i].d));
        const __m256i a = _mm256_loadu_si256((const __m256i *)x[i].qs);
        const __m256i b = _mm256_loadu_si256((const __m256i *)y[i].qs);
        acc = _mm256_fmadd_ps(d, block_product_avx2(a, b), acc);
    }
    return horizontal_sum_avx2(acc);
}

// Q5_0 weights as int8 in [-16, 15]: low nibbles are elements 0-15, high nibbles 16-31, and
// bit j of qh adds 16 to element j.
AVX2_FMA static inline __m256i unpack_q5_0_avx2(const block_q5_0 *b) {
    const __m128i packed = _mm_loadu_si128((const __m128i *)b->qs);
    const __m128i low = _mm_and_si128(packed, _mm_set1_epi8(0x0F));
    const __m128i high = _mm_and_si128(_mm_srli_epi16(packed, 4), _mm_set1_epi8(0x0F));
    const __m256i nibbles = _mm256_set_m128i(high, low);
    uint32_t qh;
    memcpy(&qh, b->qh, 4);
    // Byte i receives byte i/8 of qh, then tests bit i%8.
    const __m256i spread = _mm256_shuffle_epi8(_mm256_set1_epi32((int)qh),
        _mm256_set_epi8(3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0));
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
    const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
    // q - 16: bit set -> nibble, bit clear -> nibble - 16.
    return _mm256_sub_epi8(nibbles, _mm256_andnot_si256(set, _mm256_set1_epi8(16)));
}

AVX2_FMA float glossa_dot_q5_0_avx2(const block_q5_0 *x, const block_q8_0 *y, int64_t nb) {
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < nb; i++) {
        const __m256 d = _mm256_set1_ps(half_to_float(x[i].d) * half_to_float(y[i].d));
        const __m256i b = _mm256_loadu_si256((const __m256i *)y[i].qs);
        acc = _mm256_fmadd_ps(d, block_product_avx2(unpack_q5_0_avx2(&x[i]), b), acc);
    }
    return horizontal_sum_avx2(acc);
}


// Q6_K: 6-bit values (0..63) times int8 activations with maddubs, scaled per 16 elements by
// madd with the sub-block scales; the -32 offset is folded in once per block with bsums.
AVX2_FMA float glossa_dot_q6_K_avx2(const block_q6_K *x, const block_q8_K *y, int64_t nb) {
    float sum = 0;
    for (int64_t i = 0; i < nb; i++) {
        const uint8_t *ql = x[i].ql, *qh = x[i].qh;
        const int8_t *sc = x[i].scales, *a = y[i].qs;
        __m256i isum = _mm256_setzero_si256();
        for (int half = 0; half < 2; half++, ql += 64, qh += 32, sc += 8, a += 128) {
            __m256i q[4];
            unpack_q6_K_half_avx2(ql, qh, q);
            for (int k = 0; k < 4; k++) {
                const __m256i act = _mm256_loadu_si256((const __m256i *)(a + 32 * k));
                const __m256i pairs = _mm256_maddubs_epi16(q[k], act);
                const __m256i scales = _mm256_set_m128i(_mm_set1_epi16(sc[2 * k + 1]), _mm_set1_epi16(sc[2 * k]));
                isum = _mm256_add_epi32(isum, _mm256_madd_epi16(pairs, scales));
            }
        }
        __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(isum), _mm256_extracti128_si256(isum, 1));
        s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4E));
        s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xB1));
        int total = _mm_cvtsi128_si32(s4), offset = 0;
        for (int g = 0; g < 16; g++) offset += x[i].scales[g] * y[i].bsums[g];
        sum += half_to_float(x[i].d) * y[i].d * (float)(total - 32 * offset);
    }
    return sum;
}

// Q4_K: nibbles (0..15) times int8 activations with maddubs, scaled per 32 elements by madd
// with the sub-block scale; mins are applied once per block through bsums.
AVX2_FMA float glossa_dot_q4_K_avx2(const block_q4_K *x, const block_q8_K *y, int64_t nb) {
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    float sum = 0;
    for (int64_t i = 0; i < nb; i++) {
        const uint8_t *q = x[i].qs;
        const int8_t *a = y[i].qs;
        __m256i isum = _mm256_setzero_si256();
        int summ = 0;
        for (int j = 0; j < 4; j++, q += 32, a += 64) {
            uint8_t sc1, m1, sc2, m2;
            scale_min_k4(2 * j, x[i].scales, &sc1, &m1);
            scale_min_k4(2 * j + 1, x[i].scales, &sc2, &m2);
            const __m256i packed = _mm256_loadu_si256((const __m256i *)q);
            const __m256i lo = _mm256_and_si256(packed, low4);
            const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(packed, 4), low4);
            const __m256i p1 = _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)a));
            const __m256i p2 = _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(a + 32)));
            isum = _mm256_add_epi32(isum, _mm256_madd_epi16(p1, _mm256_set1_epi16(sc1)));
            isum = _mm256_add_epi32(isum, _mm256_madd_epi16(p2, _mm256_set1_epi16(sc2)));
            summ += m1 * (y[i].bsums[4 * j] + y[i].bsums[4 * j + 1]) + m2 * (y[i].bsums[4 * j + 2] + y[i].bsums[4 * j + 3]);
        }
        __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(isum), _mm256_extracti128_si256(isum, 1));
        s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4E));
        s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xB1));
        const float d = y[i].d * half_to_float(x[i].d), dmin = y[i].d * half_to_float(x[i].dmin);
        sum += d * (float)_mm_cvtsi128_si32(s4) - dmin * (float)summ;
    }
    return sum;
}

// Four-token versions of the K-quant products: each block's weights are unpacked once and
// used for four activation rows; per token the arithmetic is that of the one-token version.
AVX2_FMA static void dot_q6_K_x4_avx2(const block_q6_K *x, const uint8_t *act, int64_t stride,
                                                                int64_t nb, float *out) {
    float sum[4] = {0, 0, 0, 0};
    for (int64_t i = 0; i < nb; i++) {
        const uint8_t *ql = x[i].ql, *qh = x[i].qh;
        const int8_t *sc = x[i].scales;
        __m256i isum[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256()};
        for (int half = 0; half < 2; half++, ql += 64, qh += 32, sc += 8) {
            __m256i q[4];
            unpack_q6_K_half_avx2(ql, qh, q);
            for (int k = 0; k < 4; k++) {
                const __m256i scales = _mm256_set_m128i(_mm_set1_epi16(sc[2 * k + 1]), _mm_set1_epi16(sc[2 * k]));
                for (int t = 0; t < 4; t++) {
                    const int8_t *a = ((const block_q8_K *)(act + t * stride))[i].qs + 128 * half + 32 * k;
                    const __m256i pairs = _mm256_maddubs_epi16(q[k], _mm256_loadu_si256((const __m256i *)a));
                    isum[t] = _mm256_add_epi32(isum[t], _mm256_madd_epi16(pairs, scales));
                }
            }
        }
        for (int t = 0; t < 4; t++) {
            const block_q8_K *y = (const block_q8_K *)(act + t * stride) + i;
            __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(isum[t]), _mm256_extracti128_si256(isum[t], 1));
            s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4E));
            s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xB1));
            int total = _mm_cvtsi128_si32(s4), offset = 0;
            for (int g = 0; g < 16; g++) offset += x[i].scales[g] * y->bsums[g];
            sum[t] += half_to_float(x[i].d) * y->d * (float)(total - 32 * offset);
        }
    }
    for (int t = 0; t < 4; t++) out[t] = sum[t];
}

AVX2_FMA static void dot_q4_K_x4_avx2(const block_q4_K *x, const uint8_t *act, int64_t stride,
                                                                int64_t nb, float *out) {
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    float sum[4] = {0, 0, 0, 0};
    for (int64_t i = 0; i < nb; i++) {
        const uint8_t *q = x[i].qs;
        __m256i isum[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256()};
        int summ[4] = {0, 0, 0, 0};
        for (int j = 0; j < 4; j++, q += 32) {
            uint8_t sc1, m1, sc2, m2;
            scale_min_k4(2 * j, x[i].scales, &sc1, &m1);
            scale_min_k4(2 * j + 1, x[i].scales, &sc2, &m2);
            const __m256i packed = _mm256_loadu_si256((const __m256i *)q);
            const __m256i lo = _mm256_and_si256(packed, low4);
            const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(packed, 4), low4);
            const __m256i s1 = _mm256_set1_epi16(sc1), s2 = _mm256_set1_epi16(sc2);
            for (int t = 0; t < 4; t++) {
                const block_q8_K *y = (const block_q8_K *)(act + t * stride) + i;
                const int8_t *a = y->qs + 64 * j;
                const __m256i p1 = _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)a));
                const __m256i p2 = _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(a + 32)));
                isum[t] = _mm256_add_epi32(isum[t], _mm256_madd_epi16(p1, s1));
                isum[t] = _mm256_add_epi32(isum[t], _mm256_madd_epi16(p2, s2));
                summ[t] += m1 * (y->bsums[4 * j] + y->bsums[4 * j + 1]) + m2 * (y->bsums[4 * j + 2] + y->bsums[4 * j + 3]);
            }
        }
        for (int t = 0; t < 4; t++) {
            const block_q8_K *y = (const block_q8_K *)(act + t * stride) + i;
            __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(isum[t]), _mm256_extracti128_si256(isum[t], 1));
            s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4E));
            s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xB1));
            const float d = y->d * half_to_float(x[i].d), dmin = y->d * half_to_float(x[i].dmin);
            sum[t] += d * (float)_mm_cvtsi128_si32(s4) - dmin * (float)summ[t];
        }
    }
    for (int t = 0; t < 4; t++) out[t] = sum[t];
}

// F32 rows (widened Hugging Face weights): four 8-lane accumulators in a fixed order.
AVX2_FMA float glossa_dot_f32_avx2(const float *x, const float *y, int64_t n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8), a1);
        a2 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 16), _mm256_loadu_ps(y + i + 16), a2);
        a3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 24), _mm256_loadu_ps(y + i + 24), a3);
    }
    for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), a0);
    float sum = horizontal_sum_avx2(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    for (; i < n; i++) sum += x[i] * y[i];
    return sum;
}

// A weight row unpacked to int8 per 32-element block, with its scale as float: prefill
// multiplies one row by many tokens, so the unpacking is paid once per row.
typedef struct { float d; int8_t qs[QK]; } unpacked_block;

AVX2_FMA static void unpack_q5_0_row(const block_q5_0 *x, unpacked_block *out, int64_t nb) {
    for (int64_t i = 0; i < nb; i++) {
        out[i].d = half_to_float(x[i].d);
        _mm256_storeu_si256((__m256i *)out[i].qs, unpack_q5_0_avx2(&x[i]));
    }
}

AVX2_FMA static void unpack_q8_0_row(const block_q8_0 *x, unpacked_block *out, int64_t nb) {
    for (int64_t i = 0; i < nb; i++) {
        out[i].d = half_to_float(x[i].d);
        memcpy(out[i].qs, x[i].qs, QK);
    }
}

AVX2_FMA static float dot_unpacked_avx2(const unpacked_block *x, const block_q8_0 *y, int64_t nb) {
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < nb; i++) {
        const __m256 d = _mm256_set1_ps(x[i].d * half_to_float(y[i].d));
        const __m256i a = _mm256_loadu_si256((const __m256i *)x[i].qs);
        const __m256i b = _mm256_loadu_si256((const __m256i *)y[i].qs);
        acc = _mm256_fmadd_ps(d, block_product_avx2(a, b), acc);
    }
    return horizontal_sum_avx2(acc);
}

// Four tokens at once against one unpacked row: the weights' absolute values are computed
// once per block and shared, activation scales come pre-widened (`ad`, one float per token and
// block). Per token the products and their order are exactly those of dot_unpacked_avx2, so a
// token's result does not depend on its neighbours. (AVX-512 machines use dot_avx512.c instead.)
AVX2_FMA static void dot_unpacked_x4_avx2(const unpacked_block *x, const uint8_t *act, int64_t stride, const float *ad,
                                          int64_t nb, float *out) {
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    const __m256i ones = _mm256_set1_epi16(1);
    for (int64_t i = 0; i < nb; i++) {
        const __m256i w = _mm256_loadu_si256((const __m256i *)x[i].qs);
        const __m256i uw = _mm256_sign_epi8(w, w);
        const float dw = x[i].d;
        for (int k = 0; k < 4; k++) {
            const block_q8_0 *b = (const block_q8_0 *)(act + k * stride) + i;
            const __m256i sb = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)b->qs), w);
            const __m256 p = _mm256_cvtepi32_ps(_mm256_madd_epi16(_mm256_maddubs_epi16(uw, sb), ones));
            acc[k] = _mm256_fmadd_ps(_mm256_set1_ps(dw * ad[k * nb + i]), p, acc[k]);
        }
    }
    for (int k = 0; k < 4; k++) out[k] = horizontal_sum_avx2(acc[k]);
}

// Batches on AVX2: Q5_0 / Q8_0 rows are unpacked once and met by four tokens at a time; Q4_K /
// Q6_K blocks are unpacked once per four tokens. Each (row, token) gets the arithmetic of the
// one-token kernel above, so a row's value does not depend on the batch.
int glossa_matmul_avx2(int32_t type, const void *w, int64_t columns, int64_t begin, int64_t end,
                       const void *x, int64_t x_stride, int64_t tokens, float *y, int64_t y_stride) {
    const int64_t nb = columns / glossa_block_elements(type), row_bytes = nb * glossa_block_bytes(type);
    if ((type == GLOSSA_TYPE_Q5_0 || type == GLOSSA_TYPE_Q8_0) && tokens > 1 && nb <= 1024) {
        unpacked_block row[1024];
        // Activation scales widened once for all rows.
        const int64_t groups = (tokens + 3) / 4;
        float *ad = malloc(sizeof(float) * (size_t)(groups * 4 * nb));
        for (int64_t t = 0; t < tokens; t++) {
            const block_q8_0 *b = (const block_q8_0 *)((const uint8_t *)x + t * x_stride);
            for (int64_t i = 0; i < nb; i++) ad[t * nb + i] = half_to_float(b[i].d);
        }
        // Tiles of 32 tokens keep their activations in L1 while every row passes over them.
        for (int64_t t0 = 0; t0 < tokens; t0 += 32) {
            const int64_t t1 = t0 + 32 < tokens ? t0 + 32 : tokens;
            for (int64_t r = begin; r < end; r++) {
                const void *packed = (const uint8_t *)w + r * row_bytes;
                if (type == GLOSSA_TYPE_Q5_0) unpack_q5_0_row(packed, row, nb); else unpack_q8_0_row(packed, row, nb);
                int64_t t = t0;
                for (; t + 4 <= t1; t += 4) {
                    float out[4];
                    const uint8_t *a = (const uint8_t *)x + t * x_stride;
                    dot_unpacked_x4_avx2(row, a, x_stride, ad + t * nb, nb, out);
                    for (int k = 0; k < 4; k++) y[(t + k) * y_stride + r] = out[k];
                }
                for (; t < t1; t++) {
                    y[t * y_stride + r] = dot_unpacked_avx2(row, (const block_q8_0 *)((const uint8_t *)x + t * x_stride), nb);
                }
            }
        }
        free(ad);
        return 1;
    }
    if ((type == GLOSSA_TYPE_Q6_K || type == GLOSSA_TYPE_Q4_K) && tokens >= 4) {
        for (int64_t t0 = 0; t0 < tokens; t0 += 16) {
            const int64_t t1 = t0 + 16 < tokens ? t0 + 16 : tokens;
            for (int64_t r = begin; r < end; r++) {
                const void *row = (const uint8_t *)w + r * row_bytes;
                int64_t t = t0;
                for (; t + 4 <= t1; t += 4) {
                    float out[4];
                    if (type == GLOSSA_TYPE_Q6_K) dot_q6_K_x4_avx2(row, (const uint8_t *)x + t * x_stride, x_stride, nb, out);
                    else dot_q4_K_x4_avx2(row, (const uint8_t *)x + t * x_stride, x_stride, nb, out);
                    for (int k = 0; k < 4; k++) y[(t + k) * y_stride + r] = out[k];
                }
                for (; t < t1; t++) {
                    const void *a = (const uint8_t *)x + t * x_stride;
                    y[t * y_stride + r] = type == GLOSSA_TYPE_Q6_K ? glossa_dot_q6_K_avx2(row, a, nb) : glossa_dot_q4_K_avx2(row, a, nb);
                }
            }
        }
        return 1;
    }
    return 0;
}
