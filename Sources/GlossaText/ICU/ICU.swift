import CICUShim

/// Facts about the ICU that Glossa runs on, and the buffer plumbing every ICU call shares.
public enum ICU {
    /// ICU library version, e.g. "72.1".
    public static var version: String { readString(glossa_icu_version) }
    /// Unicode version of ICU's data, e.g. "15.0".
    public static var unicodeVersion: String { readString(glossa_unicode_version) }

    private static func readString(_ fill: (UnsafeMutablePointer<CChar>, Int32) -> Void) -> String {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 32) { buffer in
            fill(buffer.baseAddress!, 32)
            return String(cString: buffer.baseAddress!)
        }
    }

    static let bufferOverflow: Int32 = 15  // U_BUFFER_OVERFLOW_ERROR

    static func errorName(_ status: Int32) -> String { String(cString: glossa_error_name(status)) }

    /// Runs an ICU "preflighting" call (src -> dst, returns needed length) with a buffer that
    /// grows once if the first guess was too small.
    static func transform(
        _ source: [UInt16], initialCapacity: Int? = nil,
        _ call: (UnsafePointer<UInt16>, Int32, UnsafeMutablePointer<UInt16>, Int32, inout Int32) -> Int32
    ) throws(TextError) -> [UInt16] {
        var capacity = max(initialCapacity ?? (source.count + source.count / 2 + 16), 16)
        for _ in 0..<2 {
            var status: Int32 = 0
            var needed: Int32 = 0
            let result = [UInt16](unsafeUninitializedCapacity: capacity) { out, count in
                needed = source.withUnsafeBufferPointer { src in
                    call(src.baseAddress ?? UnsafePointer(bitPattern: 1)!, Int32(src.count), out.baseAddress!, Int32(capacity), &status)
                }
                count = status > 0 ? 0 : Int(needed)
            }
            if status == bufferOverflow { capacity = Int(needed) + 1; continue }
            if status > 0 { throw TextError.icu(call: "transform", status: errorName(status)) }
            return result
        }
        throw TextError.icu(call: "transform", status: "U_BUFFER_OVERFLOW_ERROR")
    }
}

/// Errors from GlossaText; messages say what failed and what to do.
public enum TextError: Error, Equatable, CustomStringConvertible {
    case icu(call: String, status: String)
    case unknownLocale(String)
    case tooLong(Int)

    public var description: String {
        switch self {
        case let .icu(call, status): return "ICU \(call) failed with \(status); is libicu72 installed (scripts/setup.sh)?"
        case let .unknownLocale(l): return "unknown locale '\(l)'"
        case let .tooLong(n): return "text of \(n) UTF-16 units exceeds ICU's 2^31 limit; split it first"
        }
    }
}

extension String {
    /// UTF-16 code units as ICU wants them.
    var utf16Array: [UInt16] {
        var units = [UInt16]()
        units.reserveCapacity(utf8.count)
        units.append(contentsOf: utf16)
        return units
    }

    init(utf16Units units: [UInt16]) {
        self = String(decoding: units, as: UTF16.self)
    }
}
