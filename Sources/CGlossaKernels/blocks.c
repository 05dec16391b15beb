// Block formats: their sizes, the activation format each weight type's dot product takes, and
// widening any of them back to float (embedding rows, norm weights and other GGUF vectors).
#include "blocks.h"

// Filled before main runs, so kernel threads read it without a lock.
float glossa_half_table[65536];

__attribute__((constructor)) static void init_half_table(void) {
    for (uint32_t i = 0; i < 65536; i++) {
        uint16_t h = (uint16_t)i;
        _Float16 f;
        memcpy(&f, &h, 2);
        glossa_half_table[i] = (float)f;
    }
}

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
                    int q1, q2, q3, q4;
                    q6_K_values(ql, qh, l, &q1, &q2, &q3, &q4);
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
