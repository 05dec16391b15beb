import Foundation
import GlossaEngine

/// The compact form the `generate` stage stores a teacher's log-probabilities in: per
/// generation one object
///
///     {"k": K, "scale": 1024, "count": T,
///      "ids": b64(u24 x T), "logprobs": b64(u16 x T),
///      "top_ids": b64(u24 x T*K), "top_logprobs": b64(u16 x T*K)}
///
/// `ids` are the generated tokens, `logprobs` the chosen tokens' log-probabilities, `top_*` the
/// K most likely tokens at each position, best first (row-major, K per token). Ids are 3-byte
/// little-endian unsigned integers (Qwen's vocabulary has 151,936 tokens; 3 bytes are exactly
/// 4 base64 characters, so an id always encodes to the same 4 characters, which zstd then finds
/// again); log-probabilities are 2-byte little-endian unsigned integers
/// q = round(-logprob x scale), clamped to 0...65535: logprob = -q / scale, within 1/(2 x scale)
/// = 0.00049 of the engine's float32 value down to -63.99 (a q of 65535 means "-63.999 or
/// less"). A position with fewer than K alternatives (a forced thinking-budget token has none)
/// is padded with id 16777215 and q 65535.
public enum LogprobPacking {
    public static let scale = 1024
    /// Id of a missing alternative.
    public static let noToken = 0xFF_FFFF

    /// The stored form of `entries` with `k` alternatives per token; nil when an id does not fit
    /// in 3 bytes (a remote server's vocabulary could be larger).
    public static func pack(_ entries: [TokenLogprob], k: Int) -> JSONValue? {
        var ids: [UInt8] = [], values: [UInt8] = [], topIDs: [UInt8] = [], topValues: [UInt8] = []
        ids.reserveCapacity(entries.count * 3)
        values.reserveCapacity(entries.count * 2)
        topIDs.reserveCapacity(entries.count * k * 3)
        topValues.reserveCapacity(entries.count * k * 2)
        for entry in entries {
            guard append(id: entry.token, to: &ids) else { return nil }
            append(logprob: entry.logprob, to: &values)
            for j in 0..<k {
                if j < entry.top.count {
                    guard append(id: entry.top[j].token, to: &topIDs) else { return nil }
                    append(logprob: entry.top[j].logprob, to: &topValues)
                } else {
                    _ = append(id: noToken, to: &topIDs)
                    topValues += [0xFF, 0xFF]
                }
            }
        }
        return .object(JSONObject([
            "k": .number(String(k)), "scale": .number(String(scale)), "count": .number(String(entries.count)),
            "ids": .string(Data(ids).base64EncodedString()), "logprobs": .string(Data(values).base64EncodedString()),
            "top_ids": .string(Data(topIDs).base64EncodedString()), "top_logprobs": .string(Data(topValues).base64EncodedString()),
        ]))
    }

    /// The stored form read back (for tests and tools): per token its id, log-probability and
    /// alternatives (padding left out). Nil when the object is not in this format.
    public static func unpack(_ value: JSONValue) -> [TokenLogprob]? {
        guard let o = value.objectValue, let k = o["k"].flatMap(integer), let count = o["count"].flatMap(integer),
              let s = o["scale"].flatMap(integer), s > 0, (0...64).contains(k), count >= 0,
              let ids = bytes(o["ids"]), let values = bytes(o["logprobs"]),
              let topIDs = bytes(o["top_ids"]), let topValues = bytes(o["top_logprobs"]),
              // `count` is bounded by the bytes actually there before it is multiplied.
              ids.count % 3 == 0, count == ids.count / 3, values.count == count * 2,
              topIDs.count == count * k * 3, topValues.count == count * k * 2
        else { return nil }
        func id(_ b: [UInt8], _ i: Int) -> Int { Int(b[3 * i]) | Int(b[3 * i + 1]) << 8 | Int(b[3 * i + 2]) << 16 }
        func logprob(_ b: [UInt8], _ i: Int) -> Float { -Float(Int(b[2 * i]) | Int(b[2 * i + 1]) << 8) / Float(s) }
        return (0..<count).map { t in
            let top = (0..<k).compactMap { j -> (token: Int, logprob: Float)? in
                let n = t * k + j
                let token = id(topIDs, n)
                return token == noToken ? nil : (token, logprob(topValues, n))
            }
            return TokenLogprob(token: id(ids, t), logprob: logprob(values, t), top: top)
        }
    }

    private static func append(id: Int, to out: inout [UInt8]) -> Bool {
        guard id >= 0, id <= noToken else { return false }
        out += [UInt8(id & 0xFF), UInt8((id >> 8) & 0xFF), UInt8((id >> 16) & 0xFF)]
        return true
    }

    private static func append(logprob: Float, to out: inout [UInt8]) {
        // NaN and +values (never from a log-softmax) store as 0; -inf and below -63.99 clamp.
        let scaled = (-Double(logprob) * Double(scale)).rounded()
        let q = scaled.isNaN || scaled <= 0 ? 0 : scaled >= 65535 ? 65535 : Int(scaled)
        out += [UInt8(q & 0xFF), UInt8(q >> 8)]
    }

    private static func integer(_ v: JSONValue) -> Int? {
        if case let .number(n) = v { return Int(n) }
        return nil
    }

    private static func bytes(_ v: JSONValue?) -> [UInt8]? {
        v?.stringValue.flatMap { Data(base64Encoded: $0) }.map { Array($0) }
    }
}
