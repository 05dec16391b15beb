// Float work around the quantized products: attention of one query row over its cached keys
// and values, and the SwiGLU gate.
//
// The arithmetic is defined once, by the portable functions, and the AVX-512 and AVX2 paths
// reproduce it bit for bit (the same operations on the same operands; only which lanes run
// side by side differs), so a row's result depends neither on the CPU path nor on the batch:
//   exp(x):    x clamped to [-110, 90]; n = round(x log2 e); r = x - n ln2 (two fma steps);
//              p = degree-7 Taylor polynomial of e^r by Horner fma; result (p 2^a) 2^b, where
//              a = floor(n / 2) and b = n - a keep both factors normal, so under- and overflow
//              round once, at the last product.
//   q . k:     16 lane chains (lane l takes elements l, l + 16, ...: a product, then fma),
//              summed by the tree (l, l + 8), (l, l + 4), (l, l + 2), (l, l + 1).
//   softmax:   e_j = exp(s_j - max s); z = the e_j summed in 16 lanes (j mod 16) and the same
//              tree; out[i] = (fma chain over j of e_j v_j[i], from +0) * (1 / z).
// Cached keys and values are f32 or f16 (widened exactly before use; stored rounded to nearest
// even).
#include "blocks.h"
#include <math.h>

#define LOG2E 1.44269504088896341f
#define LN2_HI 0.693145751953125f        // few mantissa bits: n ln2_hi is exact
#define LN2_LO 1.42860682030941723212e-6f
#define C7 (1.0f / 5040)
#define C6 (1.0f / 720)
#define C5 (1.0f / 120)
#define C4 (1.0f / 24)
#define C3 (1.0f / 6)

#define AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma")))
#define INLINE_AVX512 static inline __attribute__((always_inline, target("avx512f,avx512bw,avx512dq,avx512vl,fma")))
#define AVX2 __attribute__((target("avx2,fma,f16c")))
#define INLINE_AVX2 static inline __attribute__((always_inline, target("avx2,fma,f16c")))

// ---------------------------------------------------------------------------------------------
// Portable definitions.

static inline float pow2_portable(float e) {
    const uint32_t u = (uint32_t)((int32_t)e + 127) << 23;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static float exp_portable(float x) {
    if (x != x) return x;
    x = x > 90.0f ? 90.0f : x;
    x = x < -110.0f ? -110.0f : x;
    const float n = nearbyintf(x * LOG2E);
    float r = fmaf(0.0f - n, LN2_HI, x);
    r = fmaf(0.0f - n, LN2_LO, r);
    float p = fmaf(C7, r, C6);
    p = fmaf(p, r, C5);
    p = fmaf(p, r, C4);
    p = fmaf(p, r, C3);
    p = fmaf(p, r, 0.5f);
    p = fmaf(p, r, 1.0f);
    p = fmaf(p, r, 1.0f);
    const float a = floorf(n * 0.5f), b = n - a;
    return p * pow2_portable(a) * pow2_portable(b);
}

static float tree16_portable(float *s) {
    for (int w = 8; w >= 1; w /= 2)
        for (int l = 0; l < w; l++) s[l] = s[l] + s[l + w];
    return s[0];
}

// Element i of a cache row (f16 rows are half_to_float'd: exact).
static inline float kv_at(const void *row, int64_t i, int f16) {
    return f16 ? half_to_float(((const uint16_t *)row)[i]) : ((const float *)row)[i];
}

static inline const void *kv_row(const void *base, int64_t j, int64_t stride, int f16) {
    return (const uint8_t *)base + j * stride * (f16 ? 2 : 4);
}

static float dot_portable(const float *q, const void *k, int64_t d, int f16) {
    float lane[16];
    for (int l = 0; l < 16; l++) lane[l] = l < d ? q[l] * kv_at(k, l, f16) : 0.0f;
    for (int64_t c = 16; c < d; c += 16)
        for (int l = 0; l < 16 && c + l < d; l++) lane[l] = fmaf(q[c + l], kv_at(k, c + l, f16), lane[l]);
    return tree16_portable(lane);
}

// x[j] = exp(x[j] - max x); returns their sum (16 lanes, j mod 16, then the tree).
static float exp_sum_portable(float *x, int64_t n) {
    float m = -INFINITY;
    for (int64_t j = 0; j < n; j++) m = x[j] > m ? x[j] : m;
    float lane[16] = {0};
    for (int64_t j = 0; j < n; j++) {
        x[j] = exp_portable(x[j] - m);
        lane[j % 16] = lane[j % 16] + x[j];
    }
    return tree16_portable(lane);
}

static void attention_portable(const float *q, int64_t group, int64_t d, const void *keys, const void *values,
                               int64_t stride, int f16, int64_t n, float scale, float *scores, float *out) {
    for (int64_t h = 0; h < group; h++) {
        for (int64_t j = 0; j < n; j++) scores[j] = dot_portable(q + h * d, kv_row(keys, j, stride, f16), d, f16) * scale;
        const float inv = 1.0f / exp_sum_portable(scores, n);
        for (int64_t i = 0; i < d; i++) {
            float o = 0.0f;
            for (int64_t j = 0; j < n; j++) o = fmaf(scores[j], kv_at(kv_row(values, j, stride, f16), i, f16), o);
            out[h * d + i] = o * inv;
        }
    }
}

static void softmax_portable(float *x, int64_t n) {
    const float inv = 1.0f / exp_sum_portable(x, n);
    for (int64_t j = 0; j < n; j++) x[j] = x[j] * inv;
}

static void swiglu_portable(const float *g, const float *u, float *out, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] = g[i] / (1.0f + exp_portable(-g[i])) * u[i];
}

// ---------------------------------------------------------------------------------------------
// AVX-512.

INLINE_AVX512 __m512 pow2_avx512(__m512 e) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(e), _mm512_set1_epi32(127)), 23));
}

INLINE_AVX512 __m512 exp_avx512(__m512 x) {
    // min/max return their second operand when either is NaN: a NaN x passes through.
    x = _mm512_min_ps(_mm512_set1_ps(90.0f), x);
    x = _mm512_max_ps(_mm512_set1_ps(-110.0f), x);
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(LOG2E)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fmadd_ps(_mm512_sub_ps(_mm512_setzero_ps(), n), _mm512_set1_ps(LN2_HI), x);
    r = _mm512_fmadd_ps(_mm512_sub_ps(_mm512_setzero_ps(), n), _mm512_set1_ps(LN2_LO), r);
    __m512 p = _mm512_fmadd_ps(_mm512_set1_ps(C7), r, _mm512_set1_ps(C6));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(C5));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(C4));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(C3));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    const __m512 a = _mm512_roundscale_ps(_mm512_mul_ps(n, _mm512_set1_ps(0.5f)), _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    const __m512 b = _mm512_sub_ps(n, a);
    return _mm512_mul_ps(_mm512_mul_ps(p, pow2_avx512(a)), pow2_avx512(b));
}

INLINE_AVX512 float tree16_avx512(__m512 v) {
    const __m256 s8 = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
    const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
    const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
    return _mm_cvtss_f32(_mm_add_ss(s2, _mm_movehdup_ps(s2)));
}

// Sixteen cache elements from element i of a row.
INLINE_AVX512 __m512 kv16_avx512(const void *row, int64_t i, int f16) {
    return f16 ? _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)((const uint16_t *)row + i)))
               : _mm512_loadu_ps((const float *)row + i);
}

INLINE_AVX512 __m512 dot_lanes_avx512(const float *q, const void *k, int64_t d, int f16) {
    __m512 acc = _mm512_mul_ps(_mm512_loadu_ps(q), kv16_avx512(k, 0, f16));
    for (int64_t c = 16; c < d; c += 16) acc = _mm512_fmadd_ps(_mm512_loadu_ps(q + c), kv16_avx512(k, c, f16), acc);
    return acc;
}

// Sixteen dots at once: slot i holds position 4 (i mod 4) + i / 4, so that the transposing
// tree below leaves position p's sum in lane p. Each step adds the lane pairs of the tree.
INLINE_AVX512 __m512 dots16_avx512(const float *q, const void *k, int64_t stride, int64_t d, int f16) {
    __m512 a[16];
#pragma clang loop unroll(full)
    for (int i = 0; i < 16; i++) a[i] = _mm512_mul_ps(_mm512_loadu_ps(q), kv16_avx512(kv_row(k, 4 * (i % 4) + i / 4, stride, f16), 0, f16));
    for (int64_t c = 16; c < d; c += 16) {
        const __m512 qc = _mm512_loadu_ps(q + c);
#pragma clang loop unroll(full)
        for (int i = 0; i < 16; i++) a[i] = _mm512_fmadd_ps(qc, kv16_avx512(kv_row(k, 4 * (i % 4) + i / 4, stride, f16), c, f16), a[i]);
    }
    __m512 b[8], e[4];
#pragma clang loop unroll(full)
    for (int i = 0; i < 8; i++)   // (l, l + 8)
        b[i] = _mm512_add_ps(_mm512_shuffle_f32x4(a[2 * i], a[2 * i + 1], 0x44), _mm512_shuffle_f32x4(a[2 * i], a[2 * i + 1], 0xEE));
#pragma clang loop unroll(full)
    for (int i = 0; i < 4; i++)   // (l, l + 4)
        e[i] = _mm512_add_ps(_mm512_shuffle_f32x4(b[2 * i], b[2 * i + 1], 0x88), _mm512_shuffle_f32x4(b[2 * i], b[2 * i + 1], 0xDD));
    // (l, l + 2), then (l, l + 1)
    const __m512 f0 = _mm512_add_ps(_mm512_shuffle_ps(e[0], e[1], 0x44), _mm512_shuffle_ps(e[0], e[1], 0xEE));
    const __m512 f1 = _mm512_add_ps(_mm512_shuffle_ps(e[2], e[3], 0x44), _mm512_shuffle_ps(e[2], e[3], 0xEE));
    return _mm512_add_ps(_mm512_shuffle_ps(f0, f1, 0x88), _mm512_shuffle_ps(f0, f1, 0xDD));
}

// x[j] = exp(x[j] - max x); returns their sum, as exp_sum_portable.
INLINE_AVX512 float exp_sum_avx512(float *x, int64_t n) {
    const int64_t full = n / 16 * 16;
    const __mmask16 tail = (__mmask16)((1u << (n - full)) - 1);
    __m512 mv = _mm512_set1_ps(-INFINITY);
    for (int64_t j = 0; j < full; j += 16) mv = _mm512_max_ps(mv, _mm512_loadu_ps(x + j));
    if (tail) mv = _mm512_max_ps(mv, _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), tail, x + full));
    const __m512 m = _mm512_set1_ps(_mm512_reduce_max_ps(mv));
    __m512 z = _mm512_setzero_ps();
    for (int64_t j = 0; j < full; j += 16) {
        const __m512 e = exp_avx512(_mm512_sub_ps(_mm512_loadu_ps(x + j), m));
        _mm512_storeu_ps(x + j, e);
        z = _mm512_add_ps(z, e);
    }
    if (tail) {
        const __m512 e = _mm512_maskz_mov_ps(tail, exp_avx512(_mm512_sub_ps(_mm512_maskz_loadu_ps(tail, x + full), m)));
        _mm512_mask_storeu_ps(x + full, tail, e);
        z = _mm512_add_ps(z, e);
    }
    return tree16_avx512(z);
}

INLINE_AVX512 void attention_avx512(const float *q, int64_t group, int64_t d, const void *keys, const void *values,
                                    int64_t stride, int f16, int64_t n, float scale, float *scores, float *out) {
    const int64_t chunks = d / 16, full = n / 16 * 16;
    for (int64_t h = 0; h < group; h++) {
        const float *qh = q + h * d;
        int64_t j = 0;
        for (; j < full; j += 16)
            _mm512_storeu_ps(scores + j, _mm512_mul_ps(dots16_avx512(qh, kv_row(keys, j, stride, f16), stride, d, f16), _mm512_set1_ps(scale)));
        for (; j < n; j++) scores[j] = tree16_avx512(dot_lanes_avx512(qh, kv_row(keys, j, stride, f16), d, f16)) * scale;
        const __m512 inv = _mm512_set1_ps(1.0f / exp_sum_avx512(scores, n));
        // Output lanes are independent chains over the positions: up to 8 registers (d <= 128)
        // per pass.
        for (int64_t c0 = 0; c0 < chunks; c0 += 8) {
            const int64_t width = chunks - c0 < 8 ? chunks - c0 : 8;
            __m512 o[8];
            for (int c = 0; c < 8; c++) o[c] = _mm512_setzero_ps();
            for (int64_t p = 0; p < n; p++) {
                const __m512 w = _mm512_set1_ps(scores[p]);
                const void *v = kv_row(values, p, stride, f16);
                const int64_t first = c0 * 16;
                if (width == 4) {
#pragma clang loop unroll(full)
                    for (int c = 0; c < 4; c++) o[c] = _mm512_fmadd_ps(w, kv16_avx512(v, first + 16 * c, f16), o[c]);
                } else if (width == 8) {
#pragma clang loop unroll(full)
                    for (int c = 0; c < 8; c++) o[c] = _mm512_fmadd_ps(w, kv16_avx512(v, first + 16 * c, f16), o[c]);
                } else {
                    for (int c = 0; c < width; c++) o[c] = _mm512_fmadd_ps(w, kv16_avx512(v, first + 16 * c, f16), o[c]);
                }
            }
            for (int c = 0; c < width; c++) _mm512_storeu_ps(out + h * d + (c0 + c) * 16, _mm512_mul_ps(o[c], inv));
        }
    }
}

AVX512 static void attention_avx512_f32(const float *q, int64_t group, int64_t d, const void *keys, const void *values,
                                        int64_t stride, int64_t n, float scale, float *scores, float *out) {
    attention_avx512(q, group, d, keys, values, stride, 0, n, scale, scores, out);
}

AVX512 static void attention_avx512_f16(const float *q, int64_t group, int64_t d, const void *keys, const void *values,
                                        int64_t stride, int64_t n, float scale, float *scores, float *out) {
    attention_avx512(q, group, d, keys, values, stride, 1, n, scale, scores, out);
}

AVX512 static void softmax_avx512(float *x, int64_t n) {
    const int64_t full = n / 16 * 16;
    const __mmask16 tail = (__mmask16)((1u << (n - full)) - 1);
    const __m512 inv = _mm512_set1_ps(1.0f / exp_sum_avx512(x, n));
    for (int64_t j = 0; j < full; j += 16) _mm512_storeu_ps(x + j, _mm512_mul_ps(_mm512_loadu_ps(x + j), inv));
    if (tail) _mm512_mask_storeu_ps(x + full, tail, _mm512_mul_ps(_mm512_maskz_loadu_ps(tail, x + full), inv));
}

AVX512 static void swiglu_avx512(const float *g, const float *u, float *out, int64_t n) {
    const __m512 one = _mm512_set1_ps(1.0f);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 x = _mm512_loadu_ps(g + i);
        const __m512 e = exp_avx512(_mm512_sub_ps(_mm512_setzero_ps(), x));
        _mm512_storeu_ps(out + i, _mm512_mul_ps(_mm512_div_ps(x, _mm512_add_ps(one, e)), _mm512_loadu_ps(u + i)));
    }
    for (; i < n; i++) out[i] = g[i] / (1.0f + exp_portable(-g[i])) * u[i];
}

// ---------------------------------------------------------------------------------------------
// AVX2: the same operations, a 16-lane vector being two 8-lane halves.

INLINE_AVX2 __m256 pow2_avx2(__m256 e) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(e), _mm256_set1_epi32(127)), 23));
}

INLINE_AVX2 __m256 exp_avx2(__m256 x) {
    x = _mm256_min_ps(_mm256_set1_ps(90.0f), x);
    x = _mm256_max_ps(_mm256_set1_ps(-110.0f), x);
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(LOG2E)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fmadd_ps(_mm256_sub_ps(_mm256_setzero_ps(), n), _mm256_set1_ps(LN2_HI), x);
    r = _mm256_fmadd_ps(_mm256_sub_ps(_mm256_setzero_ps(), n), _mm256_set1_ps(LN2_LO), r);
    __m256 p = _mm256_fmadd_ps(_mm256_set1_ps(C7), r, _mm256_set1_ps(C6));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(C5));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(C4));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(C3));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    const __m256 a = _mm256_floor_ps(_mm256_mul_ps(n, _mm256_set1_ps(0.5f)));
    const __m256 b = _mm256_sub_ps(n, a);
    return _mm256_mul_ps(_mm256_mul_ps(p, pow2_avx2(a)), pow2_avx2(b));
}

// The tree of a 16-lane vector held as lanes 0-7 and 8-15.
INLINE_AVX2 float tree16_avx2(__m256 lo, __m256 hi) {
    const __m256 s8 = _mm256_add_ps(lo, hi);
    const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
    const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
    return _mm_cvtss_f32(_mm_add_ss(s2, _mm_movehdup_ps(s2)));
}

INLINE_AVX2 __m256 kv8_avx2(const void *row, int64_t i, int f16) {
    return f16 ? _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)row + i))) : _mm256_loadu_ps((const float *)row + i);
}

INLINE_AVX2 float dot_avx2(const float *q, const void *k, int64_t d, int f16) {
    __m256 lo = _mm256_mul_ps(_mm256_loadu_ps(q), kv8_avx2(k, 0, f16));
    __m256 hi = _mm256_mul_ps(_mm256_loadu_ps(q + 8), kv8_avx2(k, 8, f16));
    for (int64_t c = 16; c < d; c += 16) {
        lo = _mm256_fmadd_ps(_mm256_loadu_ps(q + c), kv8_avx2(k, c, f16), lo);
        hi = _mm256_fmadd_ps(_mm256_loadu_ps(q + c + 8), kv8_avx2(k, c + 8, f16), hi);
    }
    return tree16_avx2(lo, hi);
}

// x[j] = exp(x[j] - max x); returns their sum, as exp_sum_portable.
INLINE_AVX2 float exp_sum_avx2(float *x, int64_t n) {
    float m = -INFINITY;
    for (int64_t j = 0; j < n; j++) m = x[j] > m ? x[j] : m;
    const __m256 mv = _mm256_set1_ps(m);
    __m256 zlo = _mm256_setzero_ps(), zhi = _mm256_setzero_ps();
    int64_t j = 0;
    for (; j + 16 <= n; j += 16) {
        const __m256 elo = exp_avx2(_mm256_sub_ps(_mm256_loadu_ps(x + j), mv));
        const __m256 ehi = exp_avx2(_mm256_sub_ps(_mm256_loadu_ps(x + j + 8), mv));
        _mm256_storeu_ps(x + j, elo);
        _mm256_storeu_ps(x + j + 8, ehi);
        zlo = _mm256_add_ps(zlo, elo);
        zhi = _mm256_add_ps(zhi, ehi);
    }
    if (j < n) {
        float rest[16] = {0};
        for (int64_t t = j; t < n; t++) rest[t - j] = x[t] = exp_portable(x[t] - m);
        zlo = _mm256_add_ps(zlo, _mm256_loadu_ps(rest));
        zhi = _mm256_add_ps(zhi, _mm256_loadu_ps(rest + 8));
    }
    return tree16_avx2(zlo, zhi);
}

AVX2 static void attention_avx2(const float *q, int64_t group, int64_t d, const void *keys, const void *values,
                                int64_t stride, int f16, int64_t n, float scale, float *scores, float *out) {
    for (int64_t h = 0; h < group; h++) {
        for (int64_t j = 0; j < n; j++) scores[j] = dot_avx2(q + h * d, kv_row(keys, j, stride, f16), d, f16) * scale;
        const __m256 inv = _mm256_set1_ps(1.0f / exp_sum_avx2(scores, n));
        for (int64_t c = 0; c < d; c += 8) {
            __m256 o = _mm256_setzero_ps();
            for (int64_t p = 0; p < n; p++) o = _mm256_fmadd_ps(_mm256_set1_ps(scores[p]), kv8_avx2(kv_row(values, p, stride, f16), c, f16), o);
            _mm256_storeu_ps(out + h * d + c, _mm256_mul_ps(o, inv));
        }
    }
}

AVX2 static void softmax_avx2(float *x, int64_t n) {
    const float inv = 1.0f / exp_sum_avx2(x, n);
    for (int64_t j = 0; j < n; j++) x[j] = x[j] * inv;
}

AVX2 static void swiglu_avx2(const float *g, const float *u, float *out, int64_t n) {
    const __m256 one = _mm256_set1_ps(1.0f);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 x = _mm256_loadu_ps(g + i);
        const __m256 e = exp_avx2(_mm256_sub_ps(_mm256_setzero_ps(), x));
        _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_div_ps(x, _mm256_add_ps(one, e)), _mm256_loadu_ps(u + i)));
    }
    for (; i < n; i++) out[i] = g[i] / (1.0f + exp_portable(-g[i])) * u[i];
}

// ---------------------------------------------------------------------------------------------

void glossa_attention(const float *q, int64_t group, int64_t d, const void *keys, const void *values, int32_t kv_type,
                      int64_t stride, int64_t n, float scale, float *scores, float *out) {
    const int f16 = kv_type == GLOSSA_TYPE_F16;
    const int level = d % 16 == 0 ? glossa_kernel_level() : 1;
    if (level >= 3 && f16) attention_avx512_f16(q, group, d, keys, values, stride, n, scale, scores, out);
    else if (level >= 3) attention_avx512_f32(q, group, d, keys, values, stride, n, scale, scores, out);
    else if (level == 2) attention_avx2(q, group, d, keys, values, stride, f16, n, scale, scores, out);
    else attention_portable(q, group, d, keys, values, stride, f16, n, scale, scores, out);
}

AVX512 static void store_f16_avx512(const float *src, uint16_t *dst, int64_t count) {
    int64_t i = 0;
    for (; i + 16 <= count; i += 16)
        _mm256_storeu_si256((__m256i *)(dst + i), _mm512_cvtps_ph(_mm512_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    for (; i < count; i++) dst[i] = float_to_half(src[i]);
}

void glossa_store_kv(int32_t kv_type, const float *src, void *dst, int64_t count) {
    if (kv_type != GLOSSA_TYPE_F16) { memcpy(dst, src, (size_t)count * 4); return; }
    if (glossa_kernel_level() >= 3) { store_f16_avx512(src, dst, count); return; }
    uint16_t *h = dst;
    for (int64_t i = 0; i < count; i++) h[i] = float_to_half(src[i]);
}

void glossa_softmax(float *x, int64_t count) {
    const int level = glossa_kernel_level();
    if (level >= 3) softmax_avx512(x, count);
    else if (level == 2) softmax_avx2(x, count);
    else softmax_portable(x, count);
}

void glossa_swiglu(const float *gate, const float *up, float *out, int64_t count) {
    const int level = glossa_kernel_level();
    if (level >= 3) swiglu_avx512(gate, up, out, count);
    else if (level == 2) swiglu_avx2(gate, up, out, count);
    else swiglu_portable(gate, up, out, count);
}

float glossa_exp(float x) { return exp_portable(x); }
