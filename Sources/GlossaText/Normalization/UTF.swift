/// Straight-line UTF-8 <-> UTF-16 conversion for ICU calls (the String.utf16 view decodes
/// scalar by scalar through generic code and costs more than ICU's normalization itself).
enum UTF {
    /// UTF-16 of valid UTF-8.
    static func utf16(_ bytes: ArraySlice<UInt8>) -> [UInt16] {
        bytes.withUnsafeBufferPointer { utf16($0) }
    }

    static func utf16(_ s: UnsafeBufferPointer<UInt8>) -> [UInt16] {
        [UInt16](unsafeUninitializedCapacity: s.count) { out, count in
            var i = 0, o = 0
            let n = s.count
            while i < n {
                let b = UInt32(s[i])
                if b < 0x80 {
                    out[o] = UInt16(b); o += 1; i += 1
                } else if b < 0xE0 {
                    out[o] = UInt16((b & 0x1F) << 6 | UInt32(s[i + 1] & 0x3F)); o += 1; i += 2
                } else if b < 0xF0 {
                    out[o] = UInt16((b & 0x0F) << 12 | UInt32(s[i + 1] & 0x3F) << 6 | UInt32(s[i + 2] & 0x3F))
                    o += 1; i += 3
                } else {
                    let c = (b & 0x07) << 18 | UInt32(s[i + 1] & 0x3F) << 12 | UInt32(s[i + 2] & 0x3F) << 6 | UInt32(s[i + 3] & 0x3F)
                    out[o] = UInt16(0xD800 + ((c - 0x10000) >> 10)); out[o + 1] = UInt16(0xDC00 + ((c - 0x10000) & 0x3FF))
                    o += 2; i += 4
                }
            }
            count = o
        }
    }

    /// Appends UTF-8 of UTF-16 units; lone surrogates become U+FFFD.
    static func appendUTF8(_ u: UnsafeBufferPointer<UInt16>, to out: inout [UInt8]) {
        var i = 0
        let n = u.count
        while i < n {
            var c = UInt32(u[i])
            i += 1
            if c & 0xF800 == 0xD800 {
                if c < 0xDC00, i < n, u[i] & 0xFC00 == 0xDC00 {
                    c = 0x10000 + ((c - 0xD800) << 10) + (UInt32(u[i]) - 0xDC00)
                    i += 1
                } else {
                    c = 0xFFFD
                }
            }
            if c < 0x80 {
                out.append(UInt8(c))
            } else if c < 0x800 {
                out.append(UInt8(0xC0 | c >> 6)); out.append(UInt8(0x80 | c & 0x3F))
            } else if c < 0x10000 {
                out.append(UInt8(0xE0 | c >> 12)); out.append(UInt8(0x80 | (c >> 6) & 0x3F)); out.append(UInt8(0x80 | c & 0x3F))
            } else {
                out.append(UInt8(0xF0 | c >> 18)); out.append(UInt8(0x80 | (c >> 12) & 0x3F))
                out.append(UInt8(0x80 | (c >> 6) & 0x3F)); out.append(UInt8(0x80 | c & 0x3F))
            }
        }
    }

    static func utf8(_ units: [UInt16]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(units.count * 3)
        units.withUnsafeBufferPointer { appendUTF8($0, to: &out) }
        return out
    }

    static func string(utf16 units: [UInt16]) -> String {
        let bytes = utf8(units)
        return String(decoding: bytes, as: UTF8.self)
    }
}
