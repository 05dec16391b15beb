import CICUShim

/// Per-code-point facts the normalizer needs in its inner loop, read from ICU once.
///
/// One 32-bit entry per code point of planes 0 and 1 (512 KiB); rarer code points are looked
/// up in ICU on the fly. Layout: bits 0-3 cleanup class, 4-8 quick-check "yes" per form,
/// 9-12 flags, 16-23 canonical combining class, 24-28 "inert" per form (normalization never
/// looks across the character, so ICU can be run on the pieces between such characters).
struct CharacterTable: Sendable {
    enum Class: UInt32 {
        case plain = 0, control, tab, lineFeed, carriageReturn, otherNewline
        case space, otherSpace, bidiControl, zeroWidth, zeroWidthNonJoiner, zeroWidthJoiner
    }

    static let joiningScript: UInt32 = 1 << 9   // script that needs ZWJ/ZWNJ (Arabic, Indic, ...)
    static let emoji: UInt32 = 1 << 10          // may precede a ZWJ in an emoji sequence
    static let pictographic: UInt32 = 1 << 11   // may follow a ZWJ in an emoji sequence
    static let mark: UInt32 = 1 << 12           // nonspacing/enclosing mark: not a base for context

    static func quickCheckBit(_ form: Normalizer.Form) -> UInt32 {
        switch form {
        case .none: return 0
        case .nfc: return 1 << 4
        case .nfd: return 1 << 5
        case .nfkc: return 1 << 6
        case .nfkd: return 1 << 7
        case .nfkcCasefold: return 1 << 8
        }
    }

    static func inertBit(_ form: Normalizer.Form) -> UInt32 { quickCheckBit(form) << 20 }

    static let tableLimit: UInt32 = 0x20000
    static let shared = CharacterTable()

    let entries: [UInt32]

    private init() {
        entries = (0..<Self.tableLimit).map(Self.compute)
    }

    @inline(__always)
    func entry(_ c: UInt32) -> UInt32 {
        c < Self.tableLimit ? entries.withUnsafeBufferPointer { $0[Int(c)] } : Self.compute(c)
    }

    // Scripts whose orthography relies on ZWJ/ZWNJ: cursive joining scripts and Brahmic
    // scripts with conjunct control.
    private static let joiningScripts: Set<Int32> = Set(
        ([String])(["Arab", "Syrc", "Nkoo", "Mong", "Mand", "Adlm", "Phag", "Rohg", "Yezi", "Deva", "Beng",
         "Guru", "Gujr", "Orya", "Taml", "Telu", "Knda", "Mlym", "Sinh", "Mymr", "Khmr", "Tibt",
         "Bali", "Java", "Sund", "Tglg"])
            .map { name in glossa_script_from_code(name) }.filter { $0 >= 0 })

    private static func compute(_ c: UInt32) -> UInt32 {
        let category = glossa_char_type(c)
        var entry: UInt32
        switch c {
        case 0x09: entry = Class.tab.rawValue
        case 0x0A: entry = Class.lineFeed.rawValue
        case 0x0D: entry = Class.carriageReturn.rawValue
        case 0x0B, 0x0C, 0x85, 0x2028, 0x2029: entry = Class.otherNewline.rawValue
        case 0x20: entry = Class.space.rawValue
        case 0x200C: entry = Class.zeroWidthNonJoiner.rawValue
        case 0x200D: entry = Class.zeroWidthJoiner.rawValue
        case 0x200B, 0x2060, 0xFEFF, 0x00AD: entry = Class.zeroWidth.rawValue
        default:
            if category == 15 { entry = Class.control.rawValue }            // Cc
            else if category == 12 { entry = Class.otherSpace.rawValue }    // Zs
            else if glossa_has_property(c, Int32(GLOSSA_PROP_BIDI_CONTROL)) != 0 { entry = Class.bidiControl.rawValue }
            else { entry = Class.plain.rawValue }
        }
        for form in Normalizer.Form.allCases where form != .none {
            if glossa_normalize_quick_check_yes(form.icuForm, c) != 0 { entry |= quickCheckBit(form) }
            if glossa_normalize_is_inert(form.icuForm, c) != 0 { entry |= inertBit(form) }
        }
        entry |= UInt32(glossa_combining_class(c)) << 16

        // Context flags only on characters that stay as they are: a space or control that
        // happens to list a joining script (U+202F lists Mongolian) must not keep a joiner.
        guard entry & 0xF == Class.plain.rawValue else { return entry }
        if isJoiningScript(c) { entry |= joiningScript }
        let pictographic = glossa_has_property(c, Int32(GLOSSA_PROP_EXTENDED_PICTOGRAPHIC)) != 0
        if pictographic { entry |= Self.pictographic | emoji }
        if glossa_has_property(c, Int32(GLOSSA_PROP_EMOJI_MODIFIER)) != 0
            || glossa_has_property(c, Int32(GLOSSA_PROP_REGIONAL_INDICATOR)) != 0
            || c == 0xFE0F || c == 0x20E3 || (0xE0020...0xE007F).contains(c) {
            entry |= emoji
        }
        if category == 6 || category == 7 || glossa_combining_class(c) != 0 { entry |= mark }  // Mn, Me
        return entry
    }

    private static func isJoiningScript(_ c: UInt32) -> Bool {
        if joiningScripts.contains(glossa_script(c)) { return true }
        var scripts = [Int32](repeating: 0, count: 16)
        let n = Int(glossa_script_extensions(c, &scripts, 16))
        return scripts.prefix(min(n, 16)).contains { joiningScripts.contains($0) }
    }
}

extension Normalizer.Form {
    var icuForm: Int32 {
        switch self {
        case .none: return -1
        case .nfc: return Int32(GLOSSA_FORM_NFC)
        case .nfd: return Int32(GLOSSA_FORM_NFD)
        case .nfkc: return Int32(GLOSSA_FORM_NFKC)
        case .nfkd: return Int32(GLOSSA_FORM_NFKD)
        case .nfkcCasefold: return Int32(GLOSSA_FORM_NFKC_CASEFOLD)
        }
    }
}
