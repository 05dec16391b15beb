import CICUShim

/// CCNet-style folding for dedup keys: punctuation of every script to ASCII, digits to `0`.
/// Output characters are ASCII, which every normalization form leaves alone, so folding
/// keeps a normalized text normalized.
enum KeyFolding {
    static func fold(_ text: String, punctuation: Bool, digits: Bool,
                     counts: inout Normalizer.Counts) -> String {
        var out = String.UnicodeScalarView()
        var changed = false
        for scalar in text.unicodeScalars {
            let c = scalar.value
            if digits, glossa_digit_value(c) >= 0 {
                if c == 0x30 { out.append(scalar); continue }
                out.append("0"); counts.digits += 1; changed = true; continue
            }
            if c < 0x80 { out.append(scalar); continue }
            if punctuation, let ascii = asciiPunctuation(c) {
                out.append(contentsOf: ascii.unicodeScalars); counts.punctuation += 1; changed = true; continue
            }
            out.append(scalar)
        }
        return changed ? String(out) : text
    }

    private static let explicit: [UInt32: String] = [
        0xFF0C: ",", 0x3001: ",", 0x060C: ",", 0x104A: ",", 0xFE50: ",",
        0x3002: ".", 0xFF0E: ".", 0x0964: ".", 0x0965: ".", 0x0589: ".", 0x104B: ".", 0x17D4: ".", 0x06D4: ".",
        0xFF1A: ":", 0x2236: ":", 0xFF1B: ";", 0x061B: ";", 0xFF1F: "?", 0x061F: "?", 0x00BF: "?",
        0xFF01: "!", 0x00A1: "!", 0x2026: "...", 0x2018: "'", 0x2019: "'", 0x201A: "'", 0x201B: "'",
        0x2039: "'", 0x203A: "'", 0x00B4: "'", 0x300C: "\"", 0x300D: "\"", 0x300E: "\"", 0x300F: "\"",
        0x300A: "\"", 0x300B: "\"", 0x3008: "\"", 0x3009: "\"", 0x00AB: "\"", 0x00BB: "\"",
        0x3010: "[", 0x3011: "]", 0xFF05: "%", 0x25BA: "-", 0x2501: "-", 0xFF5E: "~",
    ]

    private static func asciiPunctuation(_ c: UInt32) -> String? {
        if let s = explicit[c] { return s }
        switch glossa_char_type(c) {
        case 19: return "-"   // Pd
        case 20: return "("   // Ps
        case 21: return ")"   // Pe
        case 22: return "_"   // Pc
        case 28, 29: return "\""  // Pi, Pf
        default: return nil
        }
    }
}
