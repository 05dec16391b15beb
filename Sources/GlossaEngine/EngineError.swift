import Foundation

/// Errors from GlossaEngine; each names the file or tensor and what to do.
public enum EngineError: Error, Equatable, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    case truncated(path: String, what: String)
    /// A count or length read from the file (`what`) asks for more items of at least
    /// `bytesEach` bytes than the `remaining` bytes of the file can hold.
    case countTooLarge(path: String, what: String, count: UInt64, bytesEach: Int, remaining: Int)
    case invalidFile(path: String, reason: String)
    case missingTensor(name: String, path: String)
    case wrongShape(name: String, expected: [Int], found: [Int])
    case unsupportedDType(name: String, dtype: String)
    case unsupportedArchitecture(String)
    case invalidConfig(path: String, reason: String)
    /// An engine setting (threads, ...) that cannot be used.
    case invalidSetting(String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason): return "cannot open \(path): \(reason)"
        case let .truncated(path, what): return "\(path) is truncated: \(what) lies past the end of the file"
        case let .countTooLarge(path, what, count, bytesEach, remaining):
            return "\(path) is truncated or corrupt: \(what) is \(count), but the \(remaining) bytes that follow hold at most "
                + "\(remaining / max(bytesEach, 1)) (at least \(bytesEach) bytes each)"
        case let .invalidFile(path, reason): return "\(path) is not a valid model file: \(reason)"
        case let .missingTensor(name, path): return "tensor \(name) is missing from \(path)"
        case let .wrongShape(name, expected, found): return "tensor \(name) has shape \(found), expected \(expected)"
        case let .unsupportedDType(name, dtype): return "tensor \(name) has dtype \(dtype); supported: F32, F16, BF16"
        case let .unsupportedArchitecture(a):
            return "architecture \(a) is not supported (Qwen3ForCausalLM, Qwen3MoeForCausalLM, Qwen2ForCausalLM)"
        case let .invalidConfig(path, reason): return "\(path): \(reason)"
        case let .invalidSetting(reason): return reason
        }
    }
}

/// A whole file memory-mapped, with the engine's error when it cannot be read.
func mapFile(_ path: String) throws(EngineError) -> Data {
    do {
        return try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
    } catch {
        throw .cannotOpen(path: path, reason: error.localizedDescription)
    }
}
