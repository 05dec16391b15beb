import Testing
@testable import GlossaEngine

@Suite struct BLASTests {
    @Test func matchesNaiveProduct() {
        let m = 7, n = 33, k = 65
        var rng: UInt64 = 12345
        func next() -> Float {
            rng = rng &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: rng >> 11) % 2001 - 1000) / 1000
        }
        let a = (0..<m * k).map { _ in next() }
        let b = (0..<n * k).map { _ in next() }
        var c = [Float](repeating: 0, count: m * n)
        BLAS.multiplyTransposed(a, b, &c, m: m, n: n, k: k)
        var worst: Float = 0
        for i in 0..<m {
            for j in 0..<n {
                var sum: Double = 0
                for p in 0..<k { sum += Double(a[i * k + p]) * Double(b[j * k + p]) }
                worst = max(worst, abs(Float(sum) - c[i * n + j]))
            }
        }
        #expect(worst < 1e-4)
        #expect(!BLAS.coreName.isEmpty)
    }
}
