// Activations quantized per block before the dot products, the way llama.cpp does: Q8_0 (one
// f16 scale per 32 values, round half away from zero) for the 32-element weight formats, Q8_K
// (a float scale per 256 values, round half to even, and the sum of every 16 values, which the
// K-quant products use for their mins and offsets).
#include "dispatch.h"
#include <math.h>

#define AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512vnni,fma")))

// AVX-512 versions, equal to the scalar code below value for value: the same float products,
// roundf's half-away-from-zero rebuilt from truncation (Q8_0) and lrintf's half-to-even (Q8_K).
AVX512 static void quantize_q8_0(const float *x, block_q8_0 *b, int64_t nb) {
    const __m512 half = _mm512_set1_ps(0.5f), one = _mm512_set1_ps(1.0f);
    const __m512i sign = _mm512_set1_epi32((int)0x80000000);
    for (int64_t i = 0; i < nb; i++, x += QK) {
        const __m512 v[2] = {_mm512_loadu_ps(x), _mm512_loadu_ps(x + 16)};
        const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v[0]), _mm512_abs_ps(v[1])));
        const float d = amax / 127.0f, id = d ? 1.0f / d : 0.0f;
        b[i].d = float_to_half(d);
        for (int h = 0; h < 2; h++) {
            const __m512 p = _mm512_mul_ps(v[h], _mm512_set1_ps(id));
            const __m512 t = _mm512_roundscale_ps(p, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
            const __mmask16 up = _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_sub_ps(p, t)), half, _CMP_GE_OQ);
            const __m512 away = _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(one),
                                                                    _mm512_and_si512(_mm512_castps_si512(p), sign)));
            const __m512 r = _mm512_mask_add_ps(t, up, t, away);
            _mm_storeu_si128((__m128i *)(b[i].qs + 16 * h), _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(r)));
        }
    }
}

AVX512 static void quantize_q8_K(const float *x, block_q8_K *b, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, x += QKK) {
        __m512 m = _mm512_setzero_ps();
        for (int k = 0; k < 16; k++) m = _mm512_max_ps(m, _mm512_abs_ps(_mm512_loadu_ps(x + 16 * k)));
        const float amax = _mm512_reduce_max_ps(m);
        if (!amax) {
            b[i].d = 0;
            memset(b[i].qs, 0, QKK);
            memset(b[i].bsums, 0, sizeof(b[i].bsums));
            continue;
        }
        // The first element reaching amax gives the sign, as the scalar scan does.
        float max = 0;
        for (int k = 0; k < 16; k++) {
            const __mmask16 hit = _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_loadu_ps(x + 16 * k)), _mm512_set1_ps(amax), _CMP_EQ_OQ);
            if (hit) { max = x[16 * k + __builtin_ctz(hit)]; break; }
        }
        const float iscale = -127.f / max;
        for (int k = 0; k < 16; k++) {
            const __m512 p = _mm512_mul_ps(_mm512_set1_ps(iscale), _mm512_loadu_ps(x + 16 * k));
            __m512i q = _mm512_cvtps_epi32(_mm512_roundscale_ps(p, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
            q = _mm512_min_epi32(q, _mm512_set1_epi32(127));
            _mm_storeu_si128((__m128i *)(b[i].qs + 16 * k), _mm512_cvtepi32_epi8(q));
            b[i].bsums[k] = (int16_t)_mm512_reduce_add_epi32(q);
        }
        b[i].d = 1 / iscale;
    }
}

static int quantize_activations_avx512(int32_t type, const float *x, void *dst, int64_t count) {
    if (!glossa_have_avx512_vnni()) return 0;
    if (type == GLOSSA_TYPE_Q8_0) { quantize_q8_0(x, dst, count / QK); return 1; }
    if (type == GLOSSA_TYPE_Q8_K) { quantize_q8_K(x, dst, count / QKK); return 1; }
    return 0;
}

static inline int nearest_int(float f) { return (int)lrintf(f); }

void glossa_quantize_activations(int32_t type, const float *x, void *dst, int64_t count) {
    if (quantize_activations_avx512(type, x, dst, count)) return;
    if (type == GLOSSA_TYPE_Q8_0) {
        block_q8_0 *b = dst;
        for (int64_t i = 0; i < count / QK; i++, x += QK) {
            float amax = 0;
            for (int j = 0; j < QK; j++) amax = fmaxf(amax, fabsf(x[j]));
            const float d = amax / 127.0f, id = d ? 1.0f / d : 0.0f;
            b[i].d = float_to_half(d);
            for (int j = 0; j < QK; j++) b[i].qs[j] = (int8_t)roundf(x[j] * id);
        }
    } else if (type == GLOSSA_TYPE_Q8_K) {
        block_q8_K *b = dst;
        for (int64_t i = 0; i < count / QKK; i++, x += QKK) {
            float max = 0, amax = 0;
            for (int j = 0; j < QKK; j++) {
                const float ax = fabsf(x[j]);
                if (ax > amax) { amax = ax; max = x[j]; }
            }
            if (!amax) {
                b[i].d = 0;
                memset(b[i].qs, 0, QKK);
                memset(b[i].bsums, 0, sizeof(b[i].bsums));
                continue;
            }
            const float iscale = -127.f / max;
            for (int j = 0; j < QKK; j++) {
                const int v = nearest_int(iscale * x[j]);
                b[i].qs[j] = (int8_t)(v > 127 ? 127 : v);
            }
            for (int j = 0; j < QKK / 16; j++) {
                int sum = 0;
                for (int k = 0; k < 16; k++) sum += b[i].qs[j * 16 + k];
                b[i].bsums[j] = (int16_t)sum;
            }
            b[i].d = 1 / iscale;
        }
    } else {
        memcpy(dst, x, (size_t)count * 4);
    }
}
