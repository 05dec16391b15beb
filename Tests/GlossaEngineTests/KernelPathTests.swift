import CGlossaKernels
import Foundation
import GlossaTestSupport
import Testing

/// The AVX-512 VNNI kernels (dot_avx512.c) against the AVX2 kernels (dot_avx2.c): the same bits for
/// every weight format both cover, every token count (tile tails, chunk boundaries, the
/// one-token paths) and odd block counts; and each token's row the same as computed alone.
@Suite(.serialized) struct KernelPathTests {
    struct Case { let type: Int32; let rows: Int; let columns: Int }

    static let cases = [
        Case(type: Int32(GLOSSA_TYPE_Q5_0), rows: 37, columns: 928),   // 29 blocks: odd pair count
        Case(type: Int32(GLOSSA_TYPE_Q8_0), rows: 37, columns: 896),
        Case(type: Int32(GLOSSA_TYPE_Q4_K), rows: 19, columns: 1280),
        Case(type: Int32(GLOSSA_TYPE_Q6_K), rows: 19, columns: 768),
    ]
    static let tokenCounts = [1, 2, 3, 4, 5, 17, 70]

    /// Random blocks with sane scales (the f16 scale fields set to small normal numbers).
    static func weights(_ c: Case, seed: UInt64) -> [UInt8] {
        var rng = SeededGenerator(seed: seed)
        let blockBytes = Int(glossa_block_bytes(c.type)), blocks = c.rows * c.columns / Int(glossa_block_elements(c.type))
        var w = (0..<(blocks * blockBytes)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let scaleOffsets: [Int] = switch c.type {
        case Int32(GLOSSA_TYPE_Q4_K): [0, 2]
        case Int32(GLOSSA_TYPE_Q6_K): [208]
        default: [0]
        }
        for b in 0..<blocks {
            for o in scaleOffsets {
                let h = UInt16(0x2000) + UInt16(rng.next() & 0xFF)
                w[b * blockBytes + o] = UInt8(h & 0xFF)
                w[b * blockBytes + o + 1] = UInt8(h >> 8)
            }
        }
        return w
    }

    static func multiply(_ c: Case, _ w: [UInt8], _ x: [Float], tokens: Int) -> [Float] {
        let vecType = glossa_vec_dot_type(c.type)
        let stride = c.columns / Int(glossa_block_elements(vecType)) * Int(glossa_block_bytes(vecType))
        var act = [UInt8](repeating: 0, count: tokens * stride)
        var y = [Float](repeating: .nan, count: tokens * c.rows)
        act.withUnsafeMutableBytes { a in
            for t in 0..<tokens {
                x.withUnsafeBufferPointer { glossa_quantize_activations(vecType, $0.baseAddress! + t * c.columns, a.baseAddress! + t * stride, Int64(c.columns)) }
            }
        }
        w.withUnsafeBytes { w in
            act.withUnsafeBytes { a in
                glossa_matmul(c.type, w.baseAddress, Int64(c.columns), 0, Int64(c.rows), a.baseAddress, Int64(stride), Int64(tokens), &y, Int64(c.rows))
            }
        }
        return y
    }

    @Test func avx512AndAVX2GiveTheSameBits() throws {
        let best = glossa_set_kernel_level(3)
        defer { glossa_set_kernel_level(best) }
        // This kind of machine has AVX-512 VNNI; elsewhere the comparison would be vacuous.
        try #require(best == 3, "the CPU lacks AVX-512 VNNI")
        for c in Self.cases {
            let w = Self.weights(c, seed: UInt64(c.type))
            var rng = SeededGenerator(seed: 99)
            let x = (0..<(70 * c.columns)).map { _ in Float(Int(rng.next() % 2001) - 1000) / 997 }
            for tokens in Self.tokenCounts {
                glossa_set_kernel_level(3)
                let fast = Self.multiply(c, w, x, tokens: tokens)
                glossa_set_kernel_level(2)
                let avx2 = Self.multiply(c, w, x, tokens: tokens)
                #expect(fast.map(\.bitPattern) == avx2.map(\.bitPattern), "type \(c.type), \(tokens) tokens")
                #expect(!fast.contains { !$0.isFinite })
                glossa_set_kernel_level(3)
                // Each token alone gives its row of the batch.
                for t in [0, tokens - 1] {
                    let alone = Self.multiply(c, w, Array(x[(t * c.columns)..<((t + 1) * c.columns)]), tokens: 1)
                    #expect(alone.map(\.bitPattern) == Array(fast[(t * c.rows)..<((t + 1) * c.rows)]).map(\.bitPattern),
                            "type \(c.type), token \(t) of \(tokens)")
                }
            }
        }
    }

    @Test func activationQuantizationIsTheSameOnBothPaths() throws {
        var rng = SeededGenerator(seed: 7)
        // Halfway cases (x.5 after scaling), zero blocks and ordinary values.
        var x = (0..<(256 * 64)).map { i -> Float in
            switch rng.next() % 4 {
            case 0: return Float(Int(rng.next() % 255) - 127) + 0.5
            case 1: return i % 2 == 0 ? 127 : -127
            default: return Float(Int(rng.next() % 20001) - 10000) / 1237
            }
        }
        for i in 0..<256 { x[i] = 0 }
        for type in [Int32(GLOSSA_TYPE_Q8_0), Int32(GLOSSA_TYPE_Q8_K)] {
            let bytes = x.count / Int(glossa_block_elements(type)) * Int(glossa_block_bytes(type))
            var out: [[UInt8]] = []
            for level in [Int32(3), 2] {
                glossa_set_kernel_level(level)
                var q = [UInt8](repeating: 0, count: bytes)
                q.withUnsafeMutableBytes { glossa_quantize_activations(type, x, $0.baseAddress, Int64(x.count)) }
                out.append(q)
            }
            glossa_set_kernel_level(3)
            #expect(out[0] == out[1], "type \(type)")
        }
    }
}

