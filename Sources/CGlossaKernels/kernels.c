#include "glossa_kernels.h"
#include <math.h>
#include <string.h>

#define QK 32
#define QKK 256
#define CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))

static inline float half_to_float(uint16_t h) {
    _Float16 f;
    memcpy(&f, &h, 2);
    return (float)f;
}
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

int64_t glossa_block_elements(int32_t type) {
    switch (type) {
    case GLOSSA_TYPE_F32: case GLOSSA_TYPE_F16: case GLOSSA_TYPE_BF16: return 1;
    case GLOSSA_TYPE_Q4_0: case GLOSSA_TYPE_Q5_0: case GLOSSA_TYPE_Q8_0: return QK;
    case GLOSSA_TYPE_Q4_K: case GLOSSA_TYPE_Q5_K: case GLOSSA_TYPE_Q6_K: case GLOSSA_TYPE_Q8_K: return QKK;
    default: return 0;
    }
}

int64_t glossa_block_bytes(int32_t type) {
    switch (type) {
    case GLOSSA_TYPE_F32: return 4;
    case GLOSSA_TYPE_F16: case GLOSSA_TYPE_BF16: return 2;
    case GLOSSA_TYPE_Q4_0: return sizeof(block_q4_0);
    case GLOSSA_TYPE_Q5_0: return sizeof(block_q5_0);
    case GLOSSA_TYPE_Q8_0: return sizeof(block_q8_0);
    case GLOSSA_TYPE_Q4_K: return sizeof(block_q4_K);
    case GLOSSA_TYPE_Q5_K: return sizeof(block_q5_K);
    case GLOSSA_TYPE_Q6_K: return sizeof(block_q6_K);
    case GLOSSA_TYPE_Q8_K: return sizeof(block_q8_K);
    default: return 0;
    }
}

int32_t glossa_vec_dot_type(int32_t type) {
    switch (type) {
    case GLOSSA_TYPE_Q4_0: case GLOSSA_TYPE_Q5_0: case GLOSSA_TYPE_Q8_0: return GLOSSA_TYPE_Q8_0;
    case GLOSSA_TYPE_Q4_K: case GLOSSA_TYPE_Q5_K: case GLOSSA_TYPE_Q6_K: return GLOSSA_TYPE_Q8_K;
    default: return GLOSSA_TYPE_F32;
    }
}

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

int glossa_dequantize(int32_t type, const void *src, float *y, int64_t count) {
    const int64_t nb = count / (glossa_block_elements(type) ? glossa_block_elements(type) : 1);
    switch (type) {
    case GLOSSA_TYPE_F32: memcpy(y, src, (size_t)count * 4); return 0;
    case GLOSSA_TYPE_F16: for (int64_t i = 0; i < count; i++) y[i] = half_to_float(((const uint16_t *)src)[i]); return 0;
    case GLOSSA_TYPE_BF16: for (int64_t i = 0; i < count; i++) y[i] = bf16_to_float(((const uint16_t *)src)[i]); return 0;
    case GLOSSA_TYPE_Q8_0: {
        const block_q8_0 *b = src;
        for (int64_t i = 0; i < nb; i++, y += QK) {
            const float d = half_to_float(b[i].d);
            for (int j = 0; j < QK; j++) y[j] = d * b[i].qs[j];
        }
        return 0;
    }
    case GLOSSA_TYPE_Q4_0: {
        const block_q4_0 *b = src;
        for (int64_t i = 0; i < nb; i++, y += QK) {
            const float d = half_to_float(b[i].d);
            for (int j = 0; j < QK / 2; j++) {
                y[j] = d * ((b[i].qs[j] & 0xF) - 8);
                y[j + QK / 2] = d * ((b[i].qs[j] >> 4) - 8);
            }
        }
        return 0;
    }
    case GLOSSA_TYPE_Q5_0: {
        const block_q5_0 *b = src;
        for (int64_t i = 0; i < nb; i++, y += QK) {
            const float d = half_to_float(b[i].d);
            uint32_t qh;
            memcpy(&qh, b[i].qh, 4);
            for (int j = 0; j < QK / 2; j++) {
                const int lo = (b[i].qs[j] & 0xF) | (((qh >> j) << 4) & 0x10);
                const int hi = (b[i].qs[j] >> 4) | ((qh >> (j + 12)) & 0x10);
                y[j] = d * (lo - 16);
                y[j + QK / 2] = d * (hi - 16);
            }
        }
        return 0;
    }
    case GLOSSA_TYPE_Q4_K: {
        const block_q4_K *b = src;
        for (int64_t i = 0; i < nb; i++) {
            const float d = half_to_float(b[i].d), min = half_to_float(b[i].dmin);
            const uint8_t *q = b[i].qs;
            for (int j = 0, is = 0; j < QKK; j += 64, is += 2, q += 32) {
                uint8_t sc, m;
                scale_min_k4(is, b[i].scales, &sc, &m);
                const float d1 = d * sc, m1 = min * m;
                scale_min_k4(is + 1, b[i].scales, &sc, &m);
                const float d2 = d * sc, m2 = min * m;
                for (int l = 0; l < 32; l++) *y++ = d1 * (q[l] & 0xF) - m1;
                for (int l = 0; l < 32; l++) *y++ = d2 * (q[l] >> 4) - m2;
            }
        }
        return 0;
    }
    case GLOSSA_TYPE_Q5_K: {
        const block_q5_K *b = src;
        for (int64_t i = 0; i < nb; i++) {
            const float d = half_to_float(b[i].d), min = half_to_float(b[i].dmin);
            const uint8_t *ql = b[i].qs, *qh = b[i].qh;
            uint8_t u1 = 1, u2 = 2;
            for (int j = 0, is = 0; j < QKK; j += 64, is += 2, ql += 32, u1 <<= 2, u2 <<= 2) {
                uint8_t sc, m;
                scale_min_k4(is, b[i].scales, &sc, &m);
                const float d1 = d * sc, m1 = min * m;
                scale_min_k4(is + 1, b[i].scales, &sc, &m);
                const float d2 = d * sc, m2 = min * m;
                for (int l = 0; l < 32; l++) *y++ = d1 * ((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
                for (int l = 0; l < 32; l++) *y++ = d2 * ((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
            }
        }
        return 0;
    }
    case GLOSSA_TYPE_Q6_K: {
        const block_q6_K *b = src;
        for (int64_t i = 0; i < nb; i++) {
            const float d = half_to_float(b[i].d);
            const uint8_t *ql = b[i].ql, *qh = b[i].qh;
            const int8_t *sc = b[i].scales;
            for (int n = 0; n < QKK; n += 128, y += 128, ql += 64, qh += 32, sc += 8) {
                for (int l = 0; l < 32; l++) {
                    const int is = l / 16;
                    const int q1 = (int)((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                    const int q2 = (int)((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                    const int q3 = (int)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                    const int q4 = (int)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                    y[l] = d * sc[is + 0] * q1;
                    y[l + 32] = d * sc[is + 2] * q2;
                    y[l + 64] = d * sc[is + 4] * q3;
                    y[l + 96] = d * sc[is + 6] * q4;
                }
            }
        }
        return 0;
    }
    default:
        return -1;
    }
}

static inline int nearest_int(float f) { return (int)lrintf(f); }

void glossa_quantize_activations(int32_t type, const float *x, void *dst, int64_t count) {
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

// ---- Dot products: one weight row against quantized activations ----

CLONES static float dot_q8_0(const block_q8_0 *x, const block_q8_0 *y, int64_t nb) {
    float sum = 0;
    for (int64_t i = 0; i < nb; i++) {
        int s = 0;
        for (int j = 0; j < QK; j++) s += x[i].qs[j] * y[i].qs[j];
        sum += s * (half_to_float(x[i].d) * half_to_float(y[i].d));
    }
    return sum;
}

CLONES static float dot_q4_0(const block_q4_0 *x, const block_q8_0 *y, int64_t nb) {
    float sum = 0;
    for (int64_t i = 0; i < nb; i++) {
        int s = 0;
        for (int j = 0; j < QK / 2; j++) {
            s += ((x[i].qs[j] & 0xF) - 8) * y[i].qs[j] + ((x[i].qs[j] >> 4) - 8) * y[i].qs[j + QK / 2];
        }
        sum += s * (half_to_float(x[i].d) * half_to_float(y[i].d));
    }
    return sum;
}

CLONES static float dot_q5_0(const block_q5_0 *x, const block_q8_0 *y, int64_t nb) {
    float sum = 0;
    for (int64_t i = 0; i < nb; i++) {
        uint32_t qh;
        memcpy(&qh, x[i].qh, 4);
        int s = 0;
        for (int j = 0; j < QK / 2; j++) {
            const int lo = ((x[i].qs[j] & 0xF) | (((qh >> j) << 4) & 0x10)) - 16;
            const int hi = ((x[i].qs[j] >> 4) | ((qh >> (j + 12)) & 0x10)) - 16;
            s += lo * y[i].qs[j] + hi * y[i].qs[j + QK / 2];
        }
        sum += s * (half_to_float(x[i].d) * half_to_float(y[i].d));
    }
    return sum;
}

CLONES static float dot_q4_K(const block_q4_K *x, const block_q8_K *y, int64_t nb) {
    float sum = 0;
    for (int64_t i = 0; i < nb; i++) {
        const float d = y[i].d * half_to_float(x[i].d), dmin = y[i].d * half_to_float(x[i].dmin);
        const uint8_t *q = x[i].qs;
        const int8_t *a = y[i].qs;
        int sumi = 0, summ = 0;
        for (int j = 0; j < 4; j++, q += 32, a += 64) {
            uint8_t sc1, m1, sc2, m2;
            scale_min_k4(2 * j, x[i].scales, &sc1, &m1);
            scale_min_k4(2 * j + 1, x[i].scales, &sc2, &m2);
            int s1 = 0, s2 = 0;
            for (int l = 0; l < 32; l++) { s1 += (q[l] & 0xF) * a[l]; s2 += (q[l] >> 4) * a[l + 32]; }
            sumi += sc1 * s1 + sc2 * s2;
            summ += m1 * (y[i].bsums[4 * j] + y[i].bsums[4 * j + 1]) + m2 * (y[i].bsums[4 * j + 2] + y[i].bsums[4 * j + 3]);
        }
        sum += d * sumi - dmin * summ;
    }
    return sum;
}

CLONES static float dot_q5_K(const block_q5_K *x, const block_q8_K *y, int64_t nb) {
    float sum = 0;
    for (int64_t i = 0; i < nb; i++) {
        const float d = y[i].d * half_to_float(x[i].d), dmin = y[i].d * half_to_float(x[i].dmin);
        const uint8_t *q = x[i].qs, *qh = x[i].qh;
        const int8_t *a = y[i].qs;
        int sumi = 0, summ = 0;
        uint8_t u1 = 1, u2 = 2;
        for (int j = 0; j < 4; j++, q += 32, a += 64, u1 <<= 2, u2 <<= 2) {
            uint8_t sc1, m1, sc2, m2;
            scale_min_k4(2 * j, x[i].scales, &sc1, &m1);
            scale_min_k4(2 * j + 1, x[i].scales, &sc2, &m2);
            int s1 = 0, s2 = 0;
            for (int l = 0; l < 32; l++) {
                s1 += ((q[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) * a[l];
                s2 += ((q[l] >> 4) + (qh[l] & u2 ? 16 : 0)) * a[l + 32];
            }
            sumi += sc1 * s1 + sc2 * s2;
            summ += m1 * (y[i].bsums[4 * j] + y[i].bsums[4 * j + 1]) + m2 * (y[i].bsums[4 * j + 2] + y[i].bsums[4 * j + 3]);
        }
        sum += d * sumi - dmin * summ;
    }
    return sum;
}

CLONES static float dot_q6_K(const block_q6_K *x, const block_q8_K *y, int64_t nb) {
    float sum = 0;
    for (int64_t i = 0; i < nb; i++) {
        const uint8_t *ql = x[i].ql, *qh = x[i].qh;
        const int8_t *sc = x[i].scales, *a = y[i].qs;
        int sumi = 0;
        for (int n = 0; n < QKK; n += 128, ql += 64, qh += 32, sc += 8, a += 128) {
            int s[8] = {0};
            for (int l = 0; l < 32; l++) {
                const int is = l / 16;
                const int q1 = (int)((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int q2 = (int)((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = (int)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = (int)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                s[is + 0] += q1 * a[l];
                s[is + 2] += q2 * a[l + 32];
                s[is + 4] += q3 * a[l + 64];
                s[is + 6] += q4 * a[l + 96];
            }
            for (int k = 0; k < 8; k++) sumi += sc[k] * s[k];
        }
        sum += half_to_float(x[i].d) * y[i].d * sumi;
    }
    return sum;
}

CLONES static float dot_f32(const float *x, const float *y, int64_t n) {
    float sum = 0;
    for (int64_t i = 0; i < n; i++) sum += x[i] * y[i];
    return sum;
}

CLONES static float dot_f16(const uint16_t *x, const float *y, int64_t n) {
    float sum = 0;
    for (int64_t i = 0; i < n; i++) sum += half_to_float(x[i]) * y[i];
    return sum;
}

CLONES static float dot_bf16(const uint16_t *x, const float *y, int64_t n) {
    float sum = 0;
    for (int64_t i = 0; i < n; i++) sum += bf16_to_float(x[i]) * y[i];
    return sum;
}

void glossa_matvec(int32_t type, const void *w, int64_t columns, int64_t begin, int64_t end, const void *x, float *y) {
    const int64_t be = glossa_block_elements(type), bb = glossa_block_bytes(type);
    if (!be) return;
    const int64_t nb = columns / be, row_bytes = nb * bb;
    for (int64_t r = begin; r < end; r++) {
        const void *row = (const uint8_t *)w + r * row_bytes;
        float v;
        switch (type) {
        case GLOSSA_TYPE_Q8_0: v = dot_q8_0(row, x, nb); break;
        case GLOSSA_TYPE_Q4_0: v = dot_q4_0(row, x, nb); break;
        case GLOSSA_TYPE_Q5_0: v = dot_q5_0(row, x, nb); break;
        case GLOSSA_TYPE_Q4_K: v = dot_q4_K(row, x, nb); break;
        case GLOSSA_TYPE_Q5_K: v = dot_q5_K(row, x, nb); break;
        case GLOSSA_TYPE_Q6_K: v = dot_q6_K(row, x, nb); break;
        case GLOSSA_TYPE_F32: v = dot_f32(row, x, columns); break;
        case GLOSSA_TYPE_F16: v = dot_f16(row, x, columns); break;
        case GLOSSA_TYPE_BF16: v = dot_bf16(row, x, columns); break;
        default: v = NAN;
        }
        y[r - begin] = v;
    }
}

float glossa_max_abs_diff(const float *a, const float *b, int64_t n) {
    float m = 0;
    for (int64_t i = 0; i < n; i++) m = fmaxf(m, fabsf(a[i] - b[i]));
    return m;
}
