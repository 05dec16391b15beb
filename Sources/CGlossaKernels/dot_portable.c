// Portable dot products: one weight row against one row of activations, quantized to the
// activation format of the weight type (glossa_vec_dot_type). Integer sums per block, then one
// float multiply and add per block. Each function is compiled three times (CLONES) so that
// this path too vectorizes its integer work on AVX2 and AVX-512 machines; the float arithmetic
// is the same in every copy (no reassociation, and -ffp-contract=off keeps products and sums
// apart).
#include "dispatch.h"

CLONES float glossa_dot_q8_0(const block_q8_0 *x, const block_q8_0 *y, int64_t nb) {
    float sum = 0;
    for (int64_t i = 0; i < nb; i++) {
        int s = 0;
        for (int j = 0; j < QK; j++) s += x[i].qs[j] * y[i].qs[j];
        sum += s * (half_to_float(x[i].d) * half_to_float(y[i].d));
    }
    return sum;
}

CLONES float glossa_dot_q4_0(const block_q4_0 *x, const block_q8_0 *y, int64_t nb) {
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

CLONES float glossa_dot_q5_0(const block_q5_0 *x, const block_q8_0 *y, int64_t nb) {
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

// Q4_K and Q5_K share their layout of scales, mins and nibbles; Q5_K adds one high bit per
// value (qh), which is NULL for Q4_K.
CLONES static float dot_k4or5(uint16_t dh, uint16_t dminh, const uint8_t *scales, const uint8_t *q, const uint8_t *qh,
                              const block_q8_K *y) {
    const float d = y->d * half_to_float(dh), dmin = y->d * half_to_float(dminh);
    const int8_t *a = y->qs;
    int sumi = 0, summ = 0;
    uint8_t u1 = 1, u2 = 2;
    for (int j = 0; j < 4; j++, q += 32, a += 64, u1 <<= 2, u2 <<= 2) {
        uint8_t sc1, m1, sc2, m2;
        scale_min_k4(2 * j, scales, &sc1, &m1);
        scale_min_k4(2 * j + 1, scales, &sc2, &m2);
        int s1 = 0, s2 = 0;
        for (int l = 0; l < 32; l++) {
            s1 += ((q[l] & 0xF) + (qh && (qh[l] & u1) ? 16 : 0)) * a[l];
            s2 += ((q[l] >> 4) + (qh && (qh[l] & u2) ? 16 : 0)) * a[l + 32];
        }
        sumi += sc1 * s1 + sc2 * s2;
        summ += m1 * (y->bsums[4 * j] + y->bsums[4 * j + 1]) + m2 * (y->bsums[4 * j + 2] + y->bsums[4 * j + 3]);
    }
    return d * sumi - dmin * summ;
}

float glossa_dot_q4_K(const block_q4_K *x, const block_q8_K *y, int64_t nb) {
    float sum = 0;
    for (int64_t i = 0; i < nb; i++) sum += dot_k4or5(x[i].d, x[i].dmin, x[i].scales, x[i].qs, NULL, &y[i]);
    return sum;
}

float glossa_dot_q5_K(const block_q5_K *x, const block_q8_K *y, int64_t nb) {
    float sum = 0;
    for (int64_t i = 0; i < nb; i++) sum += dot_k4or5(x[i].d, x[i].dmin, x[i].scales, x[i].qs, x[i].qh, &y[i]);
    return sum;
}

CLONES float glossa_dot_q6_K(const block_q6_K *x, const block_q8_K *y, int64_t nb) {
    float sum = 0;
    for (int64_t i = 0; i < nb; i++) {
        const uint8_t *ql = x[i].ql, *qh = x[i].qh;
        const int8_t *sc = x[i].scales, *a = y[i].qs;
        int sumi = 0;
        for (int n = 0; n < QKK; n += 128, ql += 64, qh += 32, sc += 8, a += 128) {
            int s[8] = {0};
            for (int l = 0; l < 32; l++) {
                const int is = l / 16;
                int q1, q2, q3, q4;
                q6_K_values(ql, qh, l, &q1, &q2, &q3, &q4);
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

CLONES float glossa_dot_f32(const float *x, const float *y, int64_t n) {
    float sum = 0;
    for (int64_t i = 0; i < n; i++) sum += x[i] * y[i];
    return sum;
}

CLONES float glossa_dot_f16(const uint16_t *x, const float *y, int64_t n) {
    float sum = 0;
    for (int64_t i = 0; i < n; i++) sum += half_to_float(x[i]) * y[i];
    return sum;
}

CLONES float glossa_dot_bf16(const uint16_t *x, const float *y, int64_t n) {
    float sum = 0;
    for (int64_t i = 0; i < n; i++) sum += bf16_to_float(x[i]) * y[i];
    return sum;
}
