import CGlossaKernels
import Dispatch

enum QuantizedKernels {
    /// Worker threads for the products (one per core on this kind of machine).
    nonisolated(unsafe) static var threads = 2

    /// y[t, o] = W[o] · x[t] for quantized W.
    static func multiply(type: Int32, weights: UnsafeRawPointer, rowBytes: Int, outFeatures: Int, inFeatures: Int,
                         x: [Float], rows: Int, into y: inout [Float]) {
        let vecType = glossa_vec_dot_type(type)
        let blockBytes = Int(glossa_block_bytes(vecType)), blockElements = Int(glossa_block_elements(vecType))
        let activationBytes = vecType == GLOSSA_TYPE_F32 ? inFeatures * 4 : inFeatures / blockElements * blockBytes
        var activations = [UInt8](repeating: 0, count: rows * activationBytes)
        x.withUnsafeBufferPointer { x in
            activations.withUnsafeMutableBytes { a in
                for t in 0..<rows {
                    glossa_quantize_activations(vecType, x.baseAddress! + t * inFeatures, a.baseAddress! + t * activationBytes, Int64(inFeatures))
                }
            }
        }
        let chunks = outFeatures >= 256 ? threads : 1
        let w = UnsafeSendable(weights)
        activations.withUnsafeBytes { a in
            let act = UnsafeSendable(a.baseAddress!)
            y.withUnsafeMutableBufferPointer { out in
                let o = UnsafeSendable(UnsafeRawPointer(out.baseAddress!))
                DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                    let begin = outFeatures * chunk / chunks, end = outFeatures * (chunk + 1) / chunks
                    let dst = UnsafeMutablePointer(mutating: o.value.assumingMemoryBound(to: Float.self))
                    glossa_matmul(type, w.value, Int64(inFeatures), Int64(begin), Int64(end),
                                  act.value, Int64(activationBytes), Int64(rows), dst, Int64(outFeatures))
                }
            }
        }
    }
}

struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
