import CGlossaKernels
import Foundation
import GlossaTestSupport
import Testing
@testable import GlossaEngine

/// The float kernels (attention, SwiGLU, their exponential): every kernel family gives the
/// same bits, and the values are those of the math computed in double.
@Suite(.serialized) struct AttentionKernelTests {
    static func random(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        return (0..<count).map { _ in Float(Int(rng.next() % 20001) - 10000) / 10000 * scale }
    }

    /// Units in the last place between a float and the double it approximates.
    static func ulps(_ x: Float, _ exact: Double) -> Double {
        abs(Double(x) - exact) / Double(Float(exact).ulp)
    }

    @Test func exponentialIsWithinTwoUlps() {
        var worst = 0.0
        // Softmax's range (x <= 0) and SiLU's (both signs), down into subnormal results.
        for i in 0...400_000 {
            let x = -103 + Float(i) * (191.0 / 400_000)
            let e = glossa_exp(x)
            let exact = Foundation.exp(Double(x))
            if exact < Double(Float.leastNormalMagnitude) {
                #expect(abs(Double(e) - exact) <= Double(Float.leastNonzeroMagnitude), "x = \(x)")
            } else if exact > Double(Float.greatestFiniteMagnitude) {
                #expect(e == .infinity, "x = \(x)")
            } else {
                worst = max(worst, Self.ulps(e, exact))
            }
        }
        print("glossa_exp: worst error \(worst) ulp")
        #expect(worst <= 2)
        #expect(glossa_exp(0) == 1)
        #expect(glossa_exp(-.infinity) == 0)
        #expect(glossa_exp(.infinity) == .infinity)
        #expect(glossa_exp(.nan).isNaN)
        #expect(glossa_exp(-200) == 0)
    }

    static func attention(level: Int32, q: [Float], k: [Float], v: [Float], precision: KVCache.Precision,
                          group: Int, d: Int, stride: Int, n: Int) -> [Float] {
        glossa_set_kernel_level(level)
        var out = [Float](repeating: .nan, count: group * d)
        var scores = [Float](repeating: .nan, count: n)
        let scale = 1 / Float(d).squareRoot()
        if precision == .f32 {
            glossa_attention(q, Int64(group), Int64(d), k, v, Int32(GLOSSA_TYPE_F32), Int64(stride), Int64(n), scale, &scores, &out)
        } else {
            var kh = [UInt16](repeating: 0, count: k.count), vh = kh
            glossa_store_kv(Int32(GLOSSA_TYPE_F16), k, &kh, Int64(k.count))
            glossa_store_kv(Int32(GLOSSA_TYPE_F16), v, &vh, Int64(v.count))
            glossa_attention(q, Int64(group), Int64(d), kh, vh, Int32(GLOSSA_TYPE_F16), Int64(stride), Int64(n), scale, &scores, &out)
        }
        return out
    }

    @Test func f16CacheRowsRoundToNearestEven() {
        var values = Self.random(4099, seed: 3, scale: 70_000)
        // Exactly halfway between two halves, both parities; beyond the f16 range; tiny values.
        values += [1 + 1.0 / 2048, 1 + 3.0 / 2048, 65_520, -65_519, 1e-8, -3e-5, .infinity]
        for level in [Int32(3), 1] {
            glossa_set_kernel_level(level)
            var h = [UInt16](repeating: 0, count: values.count)
            glossa_store_kv(Int32(GLOSSA_TYPE_F16), values, &h, Int64(values.count))
            #expect(h == values.map { Float16($0).bitPattern }, "level \(level)")
        }
        glossa_set_kernel_level(3)
    }

    @Test(arguments: KVCache.Precision.allCases)
    func attentionIsTheSameOnEveryPathAndMatchesDouble(precision: KVCache.Precision) throws {
        let best = glossa_set_kernel_level(3)
        defer { glossa_set_kernel_level(best) }
        try #require(best == 3, "the CPU lacks AVX-512")
        // Head sizes of Qwen2/3 (64, 128), one that is not a multiple of 16 (portable only),
        // and lengths around the 16-position blocks.
        for (d, group) in [(64, 7), (128, 2), (48, 3)] {
            for n in [1, 2, 15, 16, 17, 33, 100, 300] {
                let stride = 2 * d   // two key/value heads side by side; the kernel reads one
                let seed = UInt64(d * 1000 + n)
                let q = Self.random(group * d, seed: seed, scale: 4)
                var k = Self.random(n * stride, seed: seed + 1, scale: 2)
                var v = Self.random(n * stride, seed: seed + 2)
                let results = [Int32(3), 2, 1].map {
                    Self.attention(level: $0, q: q, k: k, v: v, precision: precision, group: group, d: d, stride: stride, n: n)
                }
                #expect(results[0].map(\.bitPattern) == results[1].map(\.bitPattern), "\(precision) d \(d), n \(n): AVX-512 vs AVX2")
                #expect(results[0].map(\.bitPattern) == results[2].map(\.bitPattern), "\(precision) d \(d), n \(n): AVX-512 vs portable")
                // The reference sees what the cache holds.
                if precision == .f16 {
                    k = k.map { Float(Float16($0)) }
                    v = v.map { Float(Float16($0)) }
                }
                var worst = 0.0
                for h in 0..<group {
                    var s = (0..<n).map { j in (0..<d).reduce(0.0) { $0 + Double(q[h * d + $1]) * Double(k[j * stride + $1]) } / Double(d).squareRoot() }
                    let m = s.max()!
                    s = s.map { Foundation.exp($0 - m) }
                    let z = s.reduce(0, +)
                    for i in 0..<d {
                        let exact = (0..<n).reduce(0.0) { $0 + s[$1] * Double(v[$1 * stride + i]) } / z
                        worst = max(worst, abs(Double(results[0][h * d + i]) - exact))
                    }
                }
                #expect(worst < 1e-5, "\(precision) d \(d), n \(n): \(worst)")
            }
        }
    }

    @Test func softmaxIsTheSameOnEveryPathAndMatchesDouble() throws {
        let best = glossa_set_kernel_level(3)
        defer { glossa_set_kernel_level(best) }
        try #require(best == 3, "the CPU lacks AVX-512")
        for n in [1, 7, 16, 17, 100, 300] {
            let x = Self.random(n, seed: UInt64(n), scale: 20)
            let results = [Int32(3), 2, 1].map { level -> [Float] in
                glossa_set_kernel_level(level)
                var y = x
                glossa_softmax(&y, Int64(n))
                return y
            }
            #expect(results[0].map(\.bitPattern) == results[1].map(\.bitPattern), "n \(n)")
            #expect(results[0].map(\.bitPattern) == results[2].map(\.bitPattern), "n \(n)")
            let m = Double(x.max()!), e = x.map { Foundation.exp(Double($0) - m) }, z = e.reduce(0, +)
            for i in 0..<n { #expect(abs(Double(results[0][i]) - e[i] / z) < 1e-6, "n \(n), \(i)") }
        }
    }

    @Test func swigluIsTheSameOnEveryPathAndMatchesDouble() throws {
        let best = glossa_set_kernel_level(3)
        defer { glossa_set_kernel_level(best) }
        try #require(best == 3, "the CPU lacks AVX-512")
        let count = 1037   // not a multiple of 8 or 16: the tails too
        let g = Self.random(count, seed: 5, scale: 30), u = Self.random(count, seed: 6, scale: 3)
        let results = [Int32(3), 2, 1].map { level -> [Float] in
            glossa_set_kernel_level(level)
            var out = [Float](repeating: .nan, count: count)
            glossa_swiglu(g, u, &out, Int64(count))
            return out
        }
        #expect(results[0].map(\.bitPattern) == results[1].map(\.bitPattern))
        #expect(results[0].map(\.bitPattern) == results[2].map(\.bitPattern))
        for i in 0..<count {
            let x = Double(g[i]), exact = x / (1 + Foundation.exp(-x)) * Double(u[i])
            #expect(abs(Double(results[0][i]) - exact) <= 4e-7 * max(1, abs(exact)), "\(g[i]), \(u[i])")
        }
    }
}
