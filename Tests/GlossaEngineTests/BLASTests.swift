import Testing
@testable import GlossaEngine

/// The two OpenBLAS products attention runs on f32 caches: B is one head's columns of a wider
/// matrix (rows `ldb` apart), as in the cache.
@Suite struct BLASTests {
    static func values(_ count: Int, seed: UInt64) -> [Float] {
        var rng = seed
        return (0..<count).map { _ in
            rng = rng &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: rng >> 11) % 2001 - 1000) / 1000
        }
    }

    @Test func productsMatchNaiveSums() {
        let m = 7, n = 33, k = 64, ldb = 2 * k
        let a = Self.values(m * k, seed: 1), wide = Self.values(n * ldb, seed: 2)
        // scores = 0.5 * A · (second head of wide)^T
        var c = [Float](repeating: .nan, count: m * n)
        wide.withUnsafeBufferPointer { w in
            BLAS.multiplyTransposed(a, lda: k, w.baseAddress! + k, ldb: ldb, &c, m: m, n: n, k: k, alpha: 0.5)
        }
        var worst: Double = 0
        for i in 0..<m {
            for j in 0..<n {
                let sum = (0..<k).reduce(0.0) { $0 + Double(a[i * k + $1]) * Double(wide[j * ldb + k + $1]) }
                worst = max(worst, abs(0.5 * sum - Double(c[i * n + j])))
            }
        }
        #expect(worst < 1e-4)
        // out = C · (second head of wide): m x k
        var out = [Float](repeating: .nan, count: m * k)
        wide.withUnsafeBufferPointer { w in
            BLAS.multiply(c, lda: n, w.baseAddress! + k, ldb: ldb, &out, ldc: k, m: m, n: k, k: n)
        }
        worst = 0
        for i in 0..<m {
            for j in 0..<k {
                let sum = (0..<n).reduce(0.0) { $0 + Double(c[i * n + $1]) * Double(wide[$1 * ldb + k + j]) }
                worst = max(worst, abs(sum - Double(out[i * k + j])))
            }
        }
        #expect(worst < 1e-3)
        #expect(!BLAS.coreName.isEmpty)
    }
}
