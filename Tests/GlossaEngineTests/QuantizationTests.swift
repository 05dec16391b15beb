import CGlossaKernels
import Foundation
import Testing
@testable import GlossaEngine

/// Block decoders against the `gguf` package's dequantization (Fixtures/quant/), on real blocks
/// of the default model and on generated blocks of every supported type.
@Suite struct QuantizationTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/quant/quant-blocks.safetensors").path

    @Test func dequantizationMatchesGGUFPackage() throws {
        let file = try SafetensorsFile(path: Self.fixture)
        let cases = file.tensors.keys.filter { $0.hasSuffix(".type") }.map { String($0.dropLast(5)) }.sorted()
        #expect(cases.count >= 14)
        for name in cases {
            let type = Int32(try file.integers(name + ".type")[0])
            let raw = try file.rawBytes(name + ".raw")
            let expected = try file.floats(name + ".expected")
            var out = [Float](repeating: .nan, count: expected.count)
            let rc = raw.withUnsafeBytes { glossa_dequantize(type, $0.baseAddress, &out, Int64(expected.count)) }
            #expect(rc == 0, "\(name)")
            let worst = zip(out, expected).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? .nan
            #expect(worst <= 1e-6, "\(name): \(worst)")
        }
    }

    /// The integer dot products against dequantize-then-multiply, for each weight type.
    @Test func dotProductsMatchDequantizedArithmetic() throws {
        let file = try SafetensorsFile(path: Self.fixture)
        var rng = UInt64(99)
        for name in file.tensors.keys.filter({ $0.hasSuffix(".type") }).map({ String($0.dropLast(5)) }) {
            let type = Int32(try file.integers(name + ".type")[0])
            let raw = try file.rawBytes(name + ".raw")
            let weights = try file.floats(name + ".expected")
            let columns = Int(glossa_block_elements(type) == 1 ? 256 : glossa_block_elements(type) * 4)
            guard weights.count >= columns else { continue }
            let x: [Float] = (0..<columns).map { _ in
                rng = rng &* 6364136223846793005 &+ 1442695040888963407
                return Float(Int64(bitPattern: rng >> 11) % 2001 - 1000) / 500
            }
            let vecType = glossa_vec_dot_type(type)
            var q = [UInt8](repeating: 0, count: columns * 2 + 1024)
            glossa_quantize_activations(vecType, x, &q, Int64(columns))
            var y: Float = 0
            raw.withUnsafeBytes { glossa_matmul(type, $0.baseAddress, Int64(columns), 0, 1, q, Int64(q.count), 1, &y, 1) }
            var exact: Float = 0
            for i in 0..<columns { exact += weights[i] * x[i] }
            let scale = zip(weights.prefix(columns), x).map { abs($0 * $1) }.reduce(0, +)
            // Activations are quantized to 8 bits: the error is a fraction of sum |w x|.
            #expect(abs(y - exact) <= 0.02 * scale + 1e-5, "\(name): \(y) vs \(exact) (scale \(scale))")
        }
    }
}
