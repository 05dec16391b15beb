import CGlossaKernels
import Dispatch

enum QuantizedKernels {
    /// Input rows in the activation format of `weight`'s type, `stride` bytes apart.
    static func activations(for weight: WeightMatrix, x: [Float], rows: Int) -> (bytes: [UInt8], stride: Int) {
        let inFeatures = weight.columns
        let vecType = glossa_vec_dot_type(weight.type)
        let stride = vecType == GLOSSA_TYPE_F32 ? inFeatures * 4
            : inFeatures / Int(glossa_block_elements(vecType)) * Int(glossa_block_bytes(vecType))
        // Every byte is written by the quantization below.
        var bytes = [UInt8](unsafeUninitializedCapacity: rows * stride) { _, count in count = rows * stride }
        x.withUnsafeBufferPointer { x in
            bytes.withUnsafeMutableBytes { a in
                for t in 0..<rows {
                    glossa_quantize_activations(vecType, x.baseAddress! + t * inFeatures, a.baseAddress! + t * stride, Int64(inFeatures))
                }
            }
        }
        return (bytes, stride)
    }

    /// y[t, o] = W[o] · x[t] (+ bias[o]), output rows split between the pool's threads (each
    /// row computed the same way whatever range it falls in). The bias is added by the thread
    /// that computed the row, right after its product: a serial pass after the product would
    /// hold the other threads idle.
    static func multiply(_ weight: WeightMatrix, x: [Float], rows: Int, into y: inout [Float], bias: [Float]? = nil,
                         pool: WorkerPool) {
        let (activations, stride) = activations(for: weight, x: x, rows: rows)
        let outFeatures = weight.rows
        let chunks = outFeatures >= 256 ? pool.threads : 1
        let w = UnsafeSendable(weight)
        activations.withUnsafeBytes { a in
            let act = UnsafeSendable(a.baseAddress!)
            y.withUnsafeMutableBufferPointer { out in
                let o = UnsafeSendable(out.baseAddress!)
                pool.run(chunks) { chunk in
                    let begin = outFeatures * chunk / chunks, end = outFeatures * (chunk + 1) / chunks
                    glossa_matmul(w.value.type, w.value.base, Int64(w.value.columns), Int64(begin), Int64(end),
                                  act.value, Int64(stride), Int64(rows), o.value, Int64(outFeatures))
                    guard let bias else { return }
                    bias.withUnsafeBufferPointer { bias in
                        for t in 0..<rows {
                            let row = o.value + t * outFeatures
                            for j in begin..<end { row[j] += bias[j] }
                        }
                    }
                }
            }
        }
    }
}

struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
