import CICUShim

/// General-category facts about code points (from ICU), in a table for the BMP so callers
/// like the tokenizer's pre-tokenizer can ask per character without a C call.
public enum CharacterProperties {
    private static let letter: UInt8 = 1, number: UInt8 = 2, whiteSpace: UInt8 = 4

    private static let table: [UInt8] = (0..<0x10000).map { compute(UInt32($0)) }

    private static func compute(_ c: UInt32) -> UInt8 {
        var flags: UInt8 = 0
        switch glossa_char_type(c) {
        case 1...5: flags |= letter    // Lu Ll Lt Lm Lo
        case 9...11: flags |= number   // Nd Nl No
        default: break
        }
        if glossa_has_property(c, Int32(GLOSSA_PROP_WHITE_SPACE)) != 0 { flags |= whiteSpace }
        return flags
    }

    @inline(__always) private static func flags(_ c: UInt32) -> UInt8 {
        c < 0x10000 ? table.withUnsafeBufferPointer { $0[Int(c)] } : compute(c)
    }

    /// \p{L}
    @inline(__always) public static func isLetter(_ c: UInt32) -> Bool { flags(c) & letter != 0 }
    /// \p{N}
    @inline(__always) public static func isNumber(_ c: UInt32) -> Bool { flags(c) & number != 0 }
    /// \s: Unicode White_Space (tab, LF, VT, FF, CR, space, NEL, NBSP, U+2000-200A, LS, PS, ...).
    @inline(__always) public static func isWhiteSpace(_ c: UInt32) -> Bool { flags(c) & whiteSpace != 0 }
}
