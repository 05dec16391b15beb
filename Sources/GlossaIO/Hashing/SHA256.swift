import Crypto

/// SHA-256 as hex digests (shard checksums, run fingerprints, unit names, model files), computed
/// by swift-crypto; streaming, so a shard is hashed as it is written.
public struct SHA256: Sendable {
    private var inner = Crypto.SHA256()

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) { inner.update(bufferPointer: bytes) }

    public mutating func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { inner.update(bufferPointer: $0) } }

    /// The digest as 64 lowercase hex digits.
    public func finalizeHex() -> String {
        inner.finalize().map { hexByte($0) }.joined()
    }

    public static func hex(_ bytes: [UInt8]) -> String {
        var s = SHA256()
        s.update(bytes)
        return s.finalizeHex()
    }
}

/// Two lowercase hex digits.
public func hexByte(_ b: UInt8) -> String {
    let digits: [Character] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c", "d", "e", "f"]
    return String([digits[Int(b >> 4)], digits[Int(b & 0xF)]])
}
