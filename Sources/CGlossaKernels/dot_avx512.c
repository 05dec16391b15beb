// AVX-512 VNNI products over whole batches: first the 32-element formats (Q5_0, Q8_0) against
// Q8_0 activations, then the K-quants (Q4_K, Q6_K) against Q8_K (their own notes further down).
//
// vpdpbusd multiplies unsigned by signed bytes, so weights are shifted to unsigned (Q5_0 keeps
// its stored 0..31, Q8_0 gets +128) and the shift is taken back exactly by starting each
// block's int32 lanes at -offset * (sum of the activations in that lane). A zmm register holds
// two blocks: int lanes 0-7 and 8-15, scaled by the two blocks' (weight scale x activation
// scale) before the float accumulation.
//
// Every output (row, token) is one chain: acc = fma(float(lanes), dw * da, acc) over block
// pairs, then a fixed 16-lane reduction. Tiles of rows x tokens only decide which chains run
// side by side, never their arithmetic, so results do not depend on the batch.
#include "dispatch.h"
#include <immintrin.h>
#include <stdlib.h>

#define AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512vnni,fma")))
#define INLINE_AVX512 static inline __attribute__((always_inline, target("avx512f,avx512bw,avx512dq,avx512vl,avx512vnni,fma")))

// One token's activations per pair of blocks (192 B): bytes, starting lanes, scales.
typedef struct { int8_t a[64]; int32_t start[16]; float d[16]; } act_pair;
// One weight row per pair of blocks: unsigned bytes (scales are kept apart, see unpack_row).
typedef struct { uint8_t q[64]; } weight_pair;

INLINE_AVX512 __m512 pair_scales(float d0, float d1) {
    return _mm512_insertf32x8(_mm512_set1_ps(d0), _mm256_set1_ps(d1), 1);
}

// Tokens [0, tokens) of Q8_0 rows `stride` bytes apart into pairs; a missing odd block is zero.
AVX512 static void prepare_activations(const uint8_t *x, int64_t stride, int64_t tokens, int64_t nb, int offset,
                                       act_pair *out) {
    const int64_t np = (nb + 1) / 2;
    const __m512i shift = _mm512_set1_epi8((char)offset);
    for (int64_t t = 0; t < tokens; t++) {
        const block_q8_0 *b = (const block_q8_0 *)(x + t * stride);
        for (int64_t p = 0; p < np; p++) {
            act_pair *o = out + t * np + p;
            const int64_t i = 2 * p;
            const int second = i + 1 < nb;
            memcpy(o->a, b[i].qs, 32);
            if (second) memcpy(o->a + 32, b[i + 1].qs, 32); else memset(o->a + 32, 0, 32);
            const __m512i a = _mm512_loadu_si512(o->a);
            const __m512i sums = _mm512_dpbusd_epi32(_mm512_setzero_si512(), shift, a);
            _mm512_storeu_si512(o->start, _mm512_sub_epi32(_mm512_setzero_si512(), sums));
            _mm512_storeu_ps(o->d, pair_scales(half_to_float(b[i].d), second ? half_to_float(b[i + 1].d) : 0.0f));
        }
    }
}

// Pair p of a weight row as unsigned bytes; a missing odd block is zero.
INLINE_AVX512 __m512i unpack_pair_bytes(int32_t type, const void *row, int64_t nb, int64_t p) {
    const int64_t i = 2 * p;
    const int second = i + 1 < nb;
    if (type == GLOSSA_TYPE_Q5_0) {
        const block_q5_0 *b = row;
        const __m128i q0 = _mm_loadu_si128((const __m128i *)b[i].qs);
        const __m128i q1 = second ? _mm_loadu_si128((const __m128i *)b[i + 1].qs) : _mm_setzero_si128();
        // 128-bit lanes: low nibbles of block i, high nibbles of block i, then block i + 1.
        __m512i v = _mm512_inserti32x4(_mm512_castsi128_si512(q0), q0, 1);
        v = _mm512_inserti32x4(_mm512_inserti32x4(v, q1, 2), q1, 3);
        v = _mm512_mask_blend_epi64(0xCC, v, _mm512_srli_epi16(v, 4));
        v = _mm512_and_si512(v, _mm512_set1_epi8(0x0F));
        uint32_t h0, h1 = 0;
        memcpy(&h0, b[i].qh, 4);
        if (second) memcpy(&h1, b[i + 1].qh, 4);
        // Bit j of qh is the fifth bit of element j: byte j of the pair.
        return _mm512_mask_add_epi8(v, (__mmask64)h0 | ((__mmask64)h1 << 32), v, _mm512_set1_epi8(16));
    }
    const block_q8_0 *b = row;
    const __m256i q0 = _mm256_loadu_si256((const __m256i *)b[i].qs);
    const __m256i q1 = second ? _mm256_loadu_si256((const __m256i *)b[i + 1].qs) : _mm256_set1_epi8((char)0x80);
    return _mm512_xor_si512(_mm512_inserti64x4(_mm512_castsi256_si512(q0), q1, 1), _mm512_set1_epi8((char)0x80));
}

// Scale of block i of a row (both formats keep it in their first two bytes).
static inline float block_scale(int32_t type, const void *row, int64_t i) {
    uint16_t d;
    memcpy(&d, (const uint8_t *)row + i * (type == GLOSSA_TYPE_Q5_0 ? sizeof(block_q5_0) : sizeof(block_q8_0)), 2);
    return half_to_float(d);
}

// Pair p of a weight row as unsigned bytes and its two scales (lanes 0-7 and 8-15).
INLINE_AVX512 __m512i unpack_pair(int32_t type, const void *row, int64_t nb, int64_t p, __m512 *d) {
    const int64_t i = 2 * p;
    *d = pair_scales(block_scale(type, row, i), i + 1 < nb ? block_scale(type, row, i + 1) : 0.0f);
    return unpack_pair_bytes(type, row, nb, p);
}

// Row m of a group of four into pairs of unsigned bytes; scales[4 * i + m] = scale of block i.
AVX512 static void unpack_row(int32_t type, const void *row, int64_t nb, weight_pair *out, float *scales, int m) {
    for (int64_t p = 0; p < (nb + 1) / 2; p++) _mm512_storeu_si512(out[p].q, unpack_pair_bytes(type, row, nb, p));
    for (int64_t i = 0; i < nb; i++) scales[4 * i + m] = block_scale(type, row, i);
}

// Horizontal sum in the order of dot_avx2.c's horizontal_sum_avx2 (and llama.cpp's hsum).
INLINE_AVX512 float sum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// RM rows x RN tokens; the loops unroll into registers when RM and RN are constants. The float
// side is the one-block-at-a-time 8-lane accumulation of the AVX2 kernel (dot_q5_0_avx2), so
// both give the same bits: per block vpdpbusd on 256 bits, conversion, and one fma with the
// (row, token) scale product. The products of all blocks are made first, sixteen per multiply
// (`row_scales`: 4 per block, `token_scales`: 16 per block, token-major), and read back as
// broadcasts.
INLINE_AVX512 void tile(const weight_pair *w, int64_t w_stride, const float *row_scales, const act_pair *a,
                        const float *token_scales, float *products, int64_t nb, int RM, int RN, float *y, int64_t y_stride) {
    const int64_t np = (nb + 1) / 2;
    for (int64_t i = 0; i < nb; i++)
        _mm512_storeu_ps(products + 16 * i, _mm512_mul_ps(_mm512_broadcast_f32x4(_mm_loadu_ps(row_scales + 4 * i)),
                                                           _mm512_loadu_ps(token_scales + 16 * i)));
    __m256 acc[4][4];
    for (int m = 0; m < RM; m++)
        for (int n = 0; n < RN; n++) acc[m][n] = _mm256_setzero_ps();
    for (int64_t i = 0; i < nb; i++) {
        const int64_t p = i >> 1, h = i & 1;
        __m256i wq[4];
        for (int m = 0; m < RM; m++) wq[m] = _mm256_loadu_si256((const __m256i *)(w[m * w_stride + p].q + 32 * h));
        for (int n = 0; n < RN; n++) {
            const act_pair *ap = a + n * np + p;
            const __m256i av = _mm256_loadu_si256((const __m256i *)(ap->a + 32 * h));
            const __m256i start = _mm256_loadu_si256((const __m256i *)(ap->start + 8 * h));
            for (int m = 0; m < RM; m++) {
                const __m256 f = _mm256_cvtepi32_ps(_mm256_dpbusd_epi32(start, wq[m], av));
                acc[m][n] = _mm256_fmadd_ps(_mm256_broadcast_ss(products + 16 * i + n * 4 + m), f, acc[m][n]);
            }
        }
    }
    for (int m = 0; m < RM; m++)
        for (int n = 0; n < RN; n++) y[n * y_stride + m] = sum8(acc[m][n]);
}

// One row against up to two tokens straight from the stored blocks (decoding): the weights are
// read once from memory and never stored; each product equals tile()'s.
INLINE_AVX512 void direct_row(int32_t type, const void *row, const act_pair *a, int64_t nb, int RN, float *y, int64_t y_stride) {
    const int64_t np = (nb + 1) / 2;
    __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    for (int64_t p = 0; p < np; p++) {
        const int second = 2 * p + 1 < nb;
        __m512 wd;
        const __m512i wq = unpack_pair(type, row, nb, p, &wd);
        for (int n = 0; n < RN; n++) {
            const act_pair *ap = a + n * np + p;
            const __m512 f = _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(_mm512_loadu_si512(ap->start), wq, _mm512_loadu_si512(ap->a)));
            const __m512 scale = _mm512_mul_ps(wd, _mm512_loadu_ps(ap->d));
            acc[n] = _mm256_fmadd_ps(_mm512_castps512_ps256(scale), _mm512_castps512_ps256(f), acc[n]);
            if (second) acc[n] = _mm256_fmadd_ps(_mm512_extractf32x8_ps(scale, 1), _mm512_extractf32x8_ps(f, 1), acc[n]);
        }
    }
    for (int n = 0; n < RN; n++) y[n * y_stride] = sum8(acc[n]);
}

AVX512 static void direct_rows(int32_t type, const uint8_t *w, int64_t row_bytes, int64_t begin, int64_t end,
                               const act_pair *a, int64_t nb, int64_t tokens, float *y, int64_t y_stride) {
    for (int64_t r = begin; r < end; r++) {
        if (tokens == 1) direct_row(type, w + r * row_bytes, a, nb, 1, y + r, y_stride);
        else direct_row(type, w + r * row_bytes, a, nb, 2, y + r, y_stride);
    }
}

// Every tile shape, so that each gets its own unrolled copy of a tile function.
#define TILE_SHAPES(X)                                   \
    X(4, 4) X(4, 3) X(4, 2) X(4, 1) X(3, 4) X(3, 3)      \
    X(3, 2) X(3, 1) X(2, 4) X(2, 3) X(2, 2) X(2, 1)      \
    X(1, 4) X(1, 3) X(1, 2) X(1, 1)

#define TILE_CASE(RM, RN) case (RM) * 8 + (RN): tile(w, w_stride, row_scales, a, token_scales, products, nb, RM, RN, y, y_stride); break;

AVX512 static void run_tile(int rm, int rn, const weight_pair *w, int64_t w_stride, const float *row_scales,
                            const act_pair *a, const float *token_scales, float *products, int64_t nb, float *y, int64_t y_stride) {
    switch (rm * 8 + rn) {
    TILE_SHAPES(TILE_CASE)
    default: break;
    }
}

// Token chunks keep their prepared activations in L2 while groups of four rows, unpacked once
// per chunk, pass over them four tokens at a time.
enum { TOKEN_CHUNK = 128, ROW_GROUP = 4 };

// The next row group comes from memory while this group's tiles run. Its lines are requested a
// share before each tile: a burst of requests stalls on the queue of outstanding misses.
typedef struct { const char *next; int64_t lines, done, per_tile; } group_prefetch;

static inline group_prefetch next_group(const void *w, int64_t row_bytes, int64_t r0, int64_t end, int64_t tokens) {
    const int64_t tiles = (tokens + 3) / 4;
    const int64_t lines = r0 + 2 * ROW_GROUP <= end ? ROW_GROUP * row_bytes / 64 + 1 : 0;
    return (group_prefetch){(const char *)w + (r0 + ROW_GROUP) * row_bytes, lines, 0, (lines + tiles - 1) / tiles};
}

static inline void prefetch_share(group_prefetch *p) {
    for (int64_t k = 0; k < p->per_tile && p->done < p->lines; k++, p->done++) _mm_prefetch(p->next + 64 * p->done, _MM_HINT_T0);
}

int glossa_matmul_q8_0_vnni(int32_t type, const void *w, int64_t columns, int64_t begin, int64_t end,
                            const void *x, int64_t x_stride, int64_t tokens, float *y, int64_t y_stride) {
    if ((type != GLOSSA_TYPE_Q5_0 && type != GLOSSA_TYPE_Q8_0) || !glossa_have_avx512_vnni()) return 0;
    const int64_t nb = columns / QK, np = (nb + 1) / 2;
    const int64_t row_bytes = nb * glossa_block_bytes(type);
    const int offset = type == GLOSSA_TYPE_Q5_0 ? 16 : 128;
    const int64_t chunk = tokens < TOKEN_CHUNK ? tokens : TOKEN_CHUNK;
    const int64_t quads = (chunk + 3) / 4;
    act_pair *acts = aligned_alloc(64, sizeof(act_pair) * (size_t)(chunk * np));
    if (!acts) return 0;
    if (tokens <= 2) {
        // Decoding: no unpacked rows, no scale tables.
        prepare_activations((const uint8_t *)x, x_stride, tokens, nb, offset, acts);
        direct_rows(type, w, row_bytes, begin, end, acts, nb, tokens, y, y_stride);
        free(acts);
        return 1;
    }
    weight_pair *rows = aligned_alloc(64, sizeof(weight_pair) * (size_t)(ROW_GROUP * np));
    float *scratch = aligned_alloc(64, sizeof(float) * (size_t)(nb * (4 + 16 * quads + 16)));
    if (!rows || !scratch) { free(acts); free(rows); free(scratch); return 0; }
    float *row_scales = scratch, *token_scales = scratch + 4 * nb, *products = token_scales + 16 * quads * nb;
    float out[ROW_GROUP * 4];
    for (int64_t t0 = 0; t0 < tokens; t0 += chunk) {
        const int64_t tn = t0 + chunk < tokens ? chunk : tokens - t0;
        prepare_activations((const uint8_t *)x + t0 * x_stride, x_stride, tn, nb, offset, acts);
        if (tn % 4) memset(token_scales + (tn / 4) * 16 * nb, 0, sizeof(float) * (size_t)(16 * nb));
        for (int64_t t = 0; t < tn; t++)
            for (int64_t i = 0; i < nb; i++)
                _mm_storeu_ps(token_scales + (t / 4) * 16 * nb + 16 * i + (t % 4) * 4, _mm_set1_ps(acts[t * np + i / 2].d[8 * (i % 2)]));
        for (int64_t r0 = begin; r0 < end; r0 += ROW_GROUP) {
            const int rm = (int)(end - r0 < ROW_GROUP ? end - r0 : ROW_GROUP);
            memset(row_scales, 0, sizeof(float) * (size_t)(4 * nb));
            for (int m = 0; m < rm; m++) unpack_row(type, (const uint8_t *)w + (r0 + m) * row_bytes, nb, rows + m * np, row_scales, m);
            group_prefetch prefetch = next_group(w, row_bytes, r0, end, tn);
            for (int64_t t = 0; t < tn; t += 4) {
                const int rn = (int)(tn - t < 4 ? tn - t : 4);
                prefetch_share(&prefetch);
                run_tile(rm, rn, rows, np, row_scales, acts + t * np, token_scales + (t / 4) * 16 * nb, products, nb, out, ROW_GROUP);
                for (int n = 0; n < rn; n++)
                    for (int m = 0; m < rm; m++) y[(t0 + t + n) * y_stride + r0 + m] = out[n * ROW_GROUP + m];
            }
        }
    }
    free(acts); free(rows); free(scratch);
    return 1;
}

// ---- K-quants (Q4_K, Q6_K) against Q8_K activations ----
// Weights are unpacked per super-block to int16 value x sub-block scale (Q4_K: q * sc, 0..945;
// Q6_K: (q - 32) * sc), activations widened to int16, and vpdpwssd sums a whole super-block in
// int32 lanes. The lanes of sixteen (row, token) pairs are then reduced together to exact
// super-block integers, and the float side is that of the AVX2 kernels (dot_q4_K_avx2,
// dot_q6_K_avx2): sum += d * T - dmin * S per super-block, in block order, so all paths agree
// bit for bit.
//
// Within each 64-element group the int16 layout is reordered (even dwords, then odd) so that
// lane l holds the elements 4l..4l+3 of every group, the same elements as lane l of vpdpbusd
// over the packed bytes (the one-token path, direct_k).
typedef struct { int16_t q[QKK]; int16_t mins[8]; float d, dmin; uint8_t pad[40]; } weight_super;    // 576 B
// b32: sums of the activations per 32 elements (pairs of bsums).
typedef struct { int16_t a[QKK]; int16_t b32[8]; float d; uint8_t pad[44]; } act_super;               // 576 B

// Elements 0..31 in `a`, 32..63 in `b` -> the lane order described above.
INLINE_AVX512 void store_group(int16_t *dst, __m512i a, __m512i b) {
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odd = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
    _mm512_storeu_si512(dst, _mm512_permutex2var_epi32(a, even, b));
    _mm512_storeu_si512(dst + 32, _mm512_permutex2var_epi32(a, odd, b));
}

AVX512 static void prepare_activations_k(const uint8_t *x, int64_t stride, int64_t tokens, int64_t ns, act_super *out) {
    for (int64_t t = 0; t < tokens; t++) {
        const block_q8_K *b = (const block_q8_K *)(x + t * stride);
        for (int64_t s = 0; s < ns; s++) {
            act_super *o = out + t * ns + s;
            for (int g = 0; g < 4; g++)
                store_group(o->a + 64 * g, _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(b[s].qs + 64 * g))),
                            _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(b[s].qs + 64 * g + 32))));
            for (int j = 0; j < 8; j++) o->b32[j] = (int16_t)(b[s].bsums[2 * j] + b[s].bsums[2 * j + 1]);
            o->d = b[s].d;
        }
    }
}

AVX512 static void unpack_row_k(int32_t type, const void *row, int64_t ns, weight_super *out) {
    if (type == GLOSSA_TYPE_Q4_K) {
        const block_q4_K *b = row;
        const __m256i low4 = _mm256_set1_epi8(0x0F);
        for (int64_t s = 0; s < ns; s++) {
            weight_super *o = out + s;
            for (int j = 0; j < 4; j++) {
                uint8_t sc1, m1, sc2, m2;
                scale_min_k4(2 * j, b[s].scales, &sc1, &m1);
                scale_min_k4(2 * j + 1, b[s].scales, &sc2, &m2);
                const __m256i packed = _mm256_loadu_si256((const __m256i *)(b[s].qs + 32 * j));
                const __m512i lo = _mm512_cvtepu8_epi16(_mm256_and_si256(packed, low4));
                const __m512i hi = _mm512_cvtepu8_epi16(_mm256_and_si256(_mm256_srli_epi16(packed, 4), low4));
                store_group(o->q + 64 * j, _mm512_mullo_epi16(lo, _mm512_set1_epi16(sc1)), _mm512_mullo_epi16(hi, _mm512_set1_epi16(sc2)));
                o->mins[2 * j] = m1;
                o->mins[2 * j + 1] = m2;
            }
            o->d = half_to_float(b[s].d);
            o->dmin = half_to_float(b[s].dmin);
        }
    } else {
        const block_q6_K *b = row;
        const __m512i offset = _mm512_set1_epi16(32);
        for (int64_t s = 0; s < ns; s++) {
            weight_super *o = out + s;
            const uint8_t *ql = b[s].ql, *qh = b[s].qh;
            for (int half = 0; half < 2; half++, ql += 64, qh += 32) {
                __m256i q[4];
                unpack_q6_K_half_avx2(ql, qh, q);
                __m512i v[4];
                for (int k = 0; k < 4; k++) {
                    const int e = 128 * half + 32 * k;   // first element; scales cover 16 each
                    const __m512i scales = _mm512_inserti64x4(_mm512_set1_epi16(b[s].scales[e / 16]),
                                                              _mm256_set1_epi16(b[s].scales[e / 16 + 1]), 1);
                    v[k] = _mm512_mullo_epi16(_mm512_sub_epi16(_mm512_cvtepu8_epi16(q[k]), offset), scales);
                }
                store_group(o->q + 128 * half, v[0], v[1]);
                store_group(o->q + 128 * half + 64, v[2], v[3]);
            }
            memset(o->mins, 0, sizeof(o->mins));
            o->d = half_to_float(b[s].d);
            o->dmin = 0;
        }
    }
}

// Sixteen vectors of int32 lanes -> one vector of their exact sums (lane i = sum of v[i]).
INLINE_AVX512 __m512i reduce16(const __m512i v[16]) {
    __m512i pairs[8], quads[4], halves[2];
    for (int i = 0; i < 8; i++)
        pairs[i] = _mm512_add_epi32(_mm512_unpacklo_epi32(v[2 * i], v[2 * i + 1]), _mm512_unpackhi_epi32(v[2 * i], v[2 * i + 1]));
    for (int i = 0; i < 4; i++)
        quads[i] = _mm512_add_epi32(_mm512_unpacklo_epi64(pairs[2 * i], pairs[2 * i + 1]),
                                    _mm512_unpackhi_epi64(pairs[2 * i], pairs[2 * i + 1]));
    for (int i = 0; i < 2; i++)
        halves[i] = _mm512_add_epi32(_mm512_shuffle_i32x4(quads[2 * i], quads[2 * i + 1], 0x88),
                                     _mm512_shuffle_i32x4(quads[2 * i], quads[2 * i + 1], 0xDD));
    return _mm512_add_epi32(_mm512_shuffle_i32x4(halves[0], halves[1], 0x88), _mm512_shuffle_i32x4(halves[0], halves[1], 0xDD));
}

// Up to 4 rows x 4 tokens; slot n * 4 + m of the 16-lane vectors is (row m, token n).
INLINE_AVX512 void tile_k(int32_t type, const weight_super *w, int64_t w_stride, const act_super *a, int64_t ns,
                          int RM, int RN, float *y, int64_t y_stride) {
    __m512 sum = _mm512_setzero_ps();
    const __m512i spread_n = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
    for (int64_t s = 0; s < ns; s++) {
        __m512i lanes[16];
        for (int i = 0; i < 16; i++) lanes[i] = _mm512_setzero_si512();
        for (int k = 0; k < 8; k++) {
            __m512i wq[4];
            for (int m = 0; m < RM; m++) wq[m] = _mm512_loadu_si512(w[m * w_stride + s].q + 32 * k);
            for (int n = 0; n < RN; n++) {
                const __m512i av = _mm512_loadu_si512(a[n * ns + s].a + 32 * k);
                for (int m = 0; m < RM; m++) lanes[n * 4 + m] = _mm512_dpwssd_epi32(lanes[n * 4 + m], wq[m], av);
            }
        }
        const __m512 total = _mm512_cvtepi32_ps(reduce16(lanes));
        float dw[4] = {0, 0, 0, 0}, dminw[4] = {0, 0, 0, 0}, da[4] = {0, 0, 0, 0};
        for (int m = 0; m < RM; m++) { dw[m] = w[m * w_stride + s].d; dminw[m] = w[m * w_stride + s].dmin; }
        for (int n = 0; n < RN; n++) da[n] = a[n * ns + s].d;
        const __m512 da16 = _mm512_permutexvar_ps(spread_n, _mm512_castps128_ps512(_mm_loadu_ps(da)));
        const __m512 dw16 = _mm512_broadcast_f32x4(_mm_loadu_ps(dw));
        if (type == GLOSSA_TYPE_Q4_K) {
            // S = sum over sub-blocks of min x activation sum, per (row, token).
            int16_t sums[32] = {0};
            for (int n = 0; n < RN; n++) memcpy(sums + 8 * n, a[n * ns + s].b32, 16);
            const __m512i b32 = _mm512_loadu_si512(sums);
            __m512i mins[4];
            for (int m = 0; m < 4; m++)
                mins[m] = m < RM ? _mm512_dpwssd_epi32(_mm512_setzero_si512(),
                                                       _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)w[m * w_stride + s].mins)), b32)
                                 : _mm512_setzero_si512();
            // Per 128-bit lane n: the four partial sums of (m, n) -> lane n * 4 + m.
            const __m512i p01 = _mm512_add_epi32(_mm512_unpacklo_epi32(mins[0], mins[1]), _mm512_unpackhi_epi32(mins[0], mins[1]));
            const __m512i p23 = _mm512_add_epi32(_mm512_unpacklo_epi32(mins[2], mins[3]), _mm512_unpackhi_epi32(mins[2], mins[3]));
            const __m512 S = _mm512_cvtepi32_ps(_mm512_add_epi32(_mm512_unpacklo_epi64(p01, p23), _mm512_unpackhi_epi64(p01, p23)));
            const __m512 d = _mm512_mul_ps(da16, dw16);
            const __m512 dmin = _mm512_mul_ps(da16, _mm512_broadcast_f32x4(_mm_loadu_ps(dminw)));
            sum = _mm512_add_ps(sum, _mm512_sub_ps(_mm512_mul_ps(d, total), _mm512_mul_ps(dmin, S)));
        } else {
            sum = _mm512_add_ps(sum, _mm512_mul_ps(_mm512_mul_ps(dw16, da16), total));
        }
    }
    float out[16];
    _mm512_storeu_ps(out, sum);
    for (int n = 0; n < RN; n++)
        for (int m = 0; m < RM; m++) y[n * y_stride + m] = out[n * 4 + m];
}

#define TILE_K_CASE(RM, RN) case (RM) * 8 + (RN): tile_k(type, w, w_stride, a, ns, RM, RN, y, y_stride); break;

AVX512 static void run_tile_k(int32_t type, int rm, int rn, const weight_super *w, int64_t w_stride, const act_super *a, int64_t ns,
                              float *y, int64_t y_stride) {
    switch (rm * 8 + rn) {
    TILE_SHAPES(TILE_K_CASE)
    default: break;
    }
}

AVX512 static void six_bit_starts(const block_q8_K *a, int64_t ns, __m512i *starts) {
    for (int64_t g = 0; g < 4 * ns; g++) {
        const __m512i sums = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_set1_epi8(32),
                                                 _mm512_loadu_si512(a[g / 4].qs + 64 * (g % 4)));
        starts[g] = _mm512_sub_epi32(_mm512_setzero_si512(), sums);
    }
}

// One (row, token) product straight from the stored blocks: vpdpbusd on the unsigned 4- or
// 6-bit values gives each lane's sum for one sub-block, scaled in int32 by the sub-block scale;
// Q6_K's -32 enters through `starts` (-32 x each lane's activation sum). The super-block
// integer is exact, so the float side equals dot_q4_K_avx2 / dot_q6_K_avx2.
AVX512 static float direct_k(int32_t type, const void *row, const block_q8_K *y, const __m512i *starts, int64_t ns) {
    float sum = 0;
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    for (int64_t s = 0; s < ns; s++) {
        __m512i lanes = _mm512_setzero_si512();
        int mins[8] = {0};
        float d, dmin = 0;
        if (type == GLOSSA_TYPE_Q4_K) {
            const block_q4_K *b = (const block_q4_K *)row + s;
            for (int j = 0; j < 4; j++) {
                uint8_t sc1, m1, sc2, m2;
                scale_min_k4(2 * j, b->scales, &sc1, &m1);
                scale_min_k4(2 * j + 1, b->scales, &sc2, &m2);
                const __m256i packed = _mm256_loadu_si256((const __m256i *)(b->qs + 32 * j));
                const __m512i v = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_and_si256(packed, low4)),
                                                     _mm256_and_si256(_mm256_srli_epi16(packed, 4), low4), 1);
                const __m512i p = _mm512_dpbusd_epi32(_mm512_setzero_si512(), v, _mm512_loadu_si512(y[s].qs + 64 * j));
                const __m512i scales = _mm512_inserti64x4(_mm512_set1_epi32(sc1), _mm256_set1_epi32(sc2), 1);
                lanes = _mm512_add_epi32(lanes, _mm512_mullo_epi32(p, scales));
                mins[2 * j] = m1;
                mins[2 * j + 1] = m2;
            }
            d = half_to_float(b->d);
            dmin = half_to_float(b->dmin);
        } else {
            const block_q6_K *b = (const block_q6_K *)row + s;
            const uint8_t *ql = b->ql, *qh = b->qh;
            const __m128i spread = _mm_set_epi8(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
            for (int half = 0; half < 2; half++, ql += 64, qh += 32) {
                __m256i q[4];
                unpack_q6_K_half_avx2(ql, qh, q);
                for (int g = 0; g < 2; g++) {
                    const int e = 128 * half + 64 * g;
                    const __m512i v = _mm512_inserti64x4(_mm512_castsi256_si512(q[2 * g]), q[2 * g + 1], 1);
                    const __m512i p = _mm512_dpbusd_epi32(starts[s * 4 + e / 64], v, _mm512_loadu_si512(y[s].qs + e));
                    int32_t four;
                    memcpy(&four, b->scales + e / 16, 4);
                    const __m512i scales = _mm512_cvtepi8_epi32(_mm_shuffle_epi8(_mm_cvtsi32_si128(four), spread));
                    lanes = _mm512_add_epi32(lanes, _mm512_mullo_epi32(p, scales));
                }
            }
            d = half_to_float(b->d);
        }
        const int total = _mm512_reduce_add_epi32(lanes);
        if (type == GLOSSA_TYPE_Q4_K) {
            int summ = 0;
            for (int j = 0; j < 8; j++) summ += mins[j] * (y[s].bsums[2 * j] + y[s].bsums[2 * j + 1]);
            const float dd = y[s].d * d, ddmin = y[s].d * dmin;
            sum += dd * (float)total - ddmin * (float)summ;
        } else {
            sum += d * y[s].d * (float)total;
        }
    }
    return sum;
}

enum { TOKEN_CHUNK_K = 64, DIRECT_K_TOKENS = 2 };

int glossa_matmul_k_vnni(int32_t type, const void *w, int64_t columns, int64_t begin, int64_t end,
                         const void *x, int64_t x_stride, int64_t tokens, float *y, int64_t y_stride) {
    if ((type != GLOSSA_TYPE_Q4_K && type != GLOSSA_TYPE_Q6_K) || !glossa_have_avx512_vnni()) return 0;
    const int64_t ns = columns / QKK, row_bytes = ns * glossa_block_bytes(type);
    // One or two tokens: Q4_K's AVX2 kernel is the faster one (no 32-bit multiplies).
    if (tokens <= DIRECT_K_TOKENS && type == GLOSSA_TYPE_Q4_K) return 0;
    if (tokens <= DIRECT_K_TOKENS) {
        __m512i *starts = aligned_alloc(64, sizeof(__m512i) * (size_t)(4 * ns));
        if (!starts) return 0;
        for (int64_t t = 0; t < tokens; t++) {
            const block_q8_K *a = (const block_q8_K *)((const uint8_t *)x + t * x_stride);
            if (type == GLOSSA_TYPE_Q6_K) six_bit_starts(a, ns, starts);
            for (int64_t r = begin; r < end; r++)
                y[t * y_stride + r] = direct_k(type, (const uint8_t *)w + r * row_bytes, a, starts, ns);
        }
        free(starts);
        return 1;
    }
    const int64_t chunk = tokens < TOKEN_CHUNK_K ? tokens : TOKEN_CHUNK_K;
    act_super *acts = aligned_alloc(64, sizeof(act_super) * (size_t)(chunk * ns));
    weight_super *rows = aligned_alloc(64, sizeof(weight_super) * (size_t)(ROW_GROUP * ns));
    if (!acts || !rows) { free(acts); free(rows); return 0; }
    float out[ROW_GROUP * 4];
    for (int64_t t0 = 0; t0 < tokens; t0 += chunk) {
        const int64_t tn = t0 + chunk < tokens ? chunk : tokens - t0;
        prepare_activations_k((const uint8_t *)x + t0 * x_stride, x_stride, tn, ns, acts);
        for (int64_t r0 = begin; r0 < end; r0 += ROW_GROUP) {
            const int rm = (int)(end - r0 < ROW_GROUP ? end - r0 : ROW_GROUP);
            for (int m = 0; m < rm; m++) unpack_row_k(type, (const uint8_t *)w + (r0 + m) * row_bytes, ns, rows + m * ns);
            group_prefetch prefetch = next_group(w, row_bytes, r0, end, tn);
            for (int64_t t = 0; t < tn; t += 4) {
                const int rn = (int)(tn - t < 4 ? tn - t : 4);
                prefetch_share(&prefetch);
                run_tile_k(type, rm, rn, rows, ns, acts + t * ns, ns, out, ROW_GROUP);
                for (int n = 0; n < rn; n++)
                    for (int m = 0; m < rm; m++) y[(t0 + t + n) * y_stride + r0 + m] = out[n * ROW_GROUP + m];
            }
        }
    }
    free(acts);
    free(rows);
    return 1;
}
