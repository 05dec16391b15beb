/// Errors of Glossa's files and runs (reading, writing, zstd, arguments): each names the file
/// and what to do about it.
public enum GlossaError: Error, Equatable, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    case readFailed(path: String, reason: String)
    case writeFailed(path: String, reason: String)
    case corruptZstd(path: String, frameStart: Int, decompressed: Int, reason: String)
    case truncatedZstd(path: String)
    case invalidArgument(String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason): return "cannot open \(path): \(reason)"
        case let .readFailed(path, reason): return "reading \(path) failed: \(reason)"
        case let .writeFailed(path, reason): return "writing \(path) failed: \(reason); nothing was published"
        case let .corruptZstd(path, frameStart, decompressed, reason):
            return "\(path) is not valid zstd: the frame that starts at compressed byte \(frameStart) is damaged (\(reason)) after "
                + "\(decompressed) bytes were decompressed; no output was published"
        case let .truncatedZstd(path):
            return "\(path) ends in the middle of a zstd frame (truncated download or copy?); no output was published"
        case let .invalidArgument(message): return message
        }
    }
}
