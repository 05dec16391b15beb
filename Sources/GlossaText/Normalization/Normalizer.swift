import CICUShim

/// Cleans and Unicode-normalizes text for corpora and prompts.
///
/// One pass over the UTF-8 bytes repairs invalid sequences and applies the cleanup steps; ICU's
/// normalizer runs only when a quick check (from ICU's own properties) says the cleaned text
/// is not already in the requested form. The result is idempotent: `n(n(x)) == n(x)`.
public struct Normalizer: Sendable {
    public enum Form: String, Sendable, Codable, CaseIterable {
        case none, nfc, nfd, nfkc, nfkd
        /// NFKC plus case folding and removal of default-ignorables: for dedup keys only.
        case nfkcCasefold = "nfkc_casefold"

        var isCompatibility: Bool { self == .nfkc || self == .nfkd || self == .nfkcCasefold }
    }

    /// The named steps, in the order they act; counts are kept per step.
    public enum Step: String, Sendable, Codable, CaseIterable {
        /// Invalid UTF-8 (or lone UTF-16 surrogates upstream) replaced by U+FFFD.
        case repairEncoding = "repair_encoding"
        /// C0/C1 controls other than tab and line breaks removed.
        case controls
        /// Bidi embeddings, overrides, isolates and marks (LRM, RLM, ALM) removed.
        case bidiControls = "bidi_controls"
        /// ZWSP, word joiner, BOM, soft hyphen, and ZWJ/ZWNJ outside the contexts that need them.
        case zeroWidth = "zero_width"
        /// Unicode space separators (NBSP, ideographic space, ...) mapped to U+0020.
        case spaces
        /// CRLF, CR, NEL, VT, FF, LS, PS turned into LF.
        case lineEndings = "line_endings"
        /// Runs of spaces collapsed, trailing spaces per line and excess blank lines dropped.
        case collapseWhitespace = "collapse_whitespace"
        /// Leading and trailing whitespace of the text removed.
        case trim
        /// Characters that needed NFC / NFKC / ... (failed the quick check) in texts it changed.
        case unicodeForm = "unicode_form"
        /// Unicode punctuation folded to ASCII (keys only).
        case punctuation
        /// Decimal digits of any script folded to `0` (keys only).
        case digits
    }

    public struct Configuration: Sendable, Codable, Equatable {
        public var form: Form = .nfc
        public var removeControls = true
        public var removeBidiControls = true
        public var removeZeroWidth = true
        public var mapSpaces = true
        public var normalizeLineEndings = true
        public var collapseWhitespace = true
        /// Keep leading spaces and tabs of each line (code, poetry) when collapsing.
        public var preserveIndentation = true
        /// Longest run of line feeds kept by collapsing (2 = at most one blank line).
        public var maxConsecutiveNewlines = 2
        public var trim = true
        public var foldPunctuation = false
        public var foldDigits = false

        public init() {}

        /// Cleanup for corpora and prompts: NFC and every cleanup step.
        public static let `default` = Configuration()
        /// Only the Unicode normalization form, nothing else.
        public static func formOnly(_ form: Form) -> Configuration {
            var c = Configuration()
            c.form = form
            c.removeControls = false; c.removeBidiControls = false; c.removeZeroWidth = false
            c.mapSpaces = false; c.normalizeLineEndings = false; c.collapseWhitespace = false
            c.trim = false
            return c
        }
        /// Keys for near-duplicate detection: NFKC_Casefold, punctuation and digits folded.
        public static let dedupKey: Configuration = {
            var c = Configuration()
            c.form = .nfkcCasefold
            c.foldPunctuation = true
            c.foldDigits = true
            c.preserveIndentation = false
            return c
        }()

        /// Enabled steps by name, for reports and the CLI.
        public var enabledSteps: [Step] {
            var steps: [Step] = [.repairEncoding]
            if removeControls { steps.append(.controls) }
            if removeBidiControls { steps.append(.bidiControls) }
            if removeZeroWidth { steps.append(.zeroWidth) }
            if mapSpaces { steps.append(.spaces) }
            if normalizeLineEndings { steps.append(.lineEndings) }
            if collapseWhitespace { steps.append(.collapseWhitespace) }
            if trim { steps.append(.trim) }
            if form != .none { steps.append(.unicodeForm) }
            if foldPunctuation { steps.append(.punctuation) }
            if foldDigits { steps.append(.digits) }
            return steps
        }

        /// Turns one named step on or off.
        public mutating func set(_ step: Step, enabled: Bool) {
            switch step {
            case .repairEncoding: break  // always on: a String cannot hold invalid UTF-8
            case .controls: removeControls = enabled
            case .bidiControls: removeBidiControls = enabled
            case .zeroWidth: removeZeroWidth = enabled
            case .spaces: mapSpaces = enabled
            case .lineEndings: normalizeLineEndings = enabled
            case .collapseWhitespace: collapseWhitespace = enabled
            case .trim: trim = enabled
            case .unicodeForm: form = enabled ? (form == .none ? .nfc : form) : .none
            case .punctuation: foldPunctuation = enabled
            case .digits: foldDigits = enabled
            }
        }
    }

    /// How many characters each step touched.
    public struct Counts: Sendable, Equatable, Codable {
        public var repairEncoding = 0, controls = 0, bidiControls = 0, zeroWidth = 0, spaces = 0
        public var lineEndings = 0, collapseWhitespace = 0, trim = 0, unicodeForm = 0
        public var punctuation = 0, digits = 0

        public init() {}

        public subscript(step: Step) -> Int {
            get {
                switch step {
                case .repairEncoding: repairEncoding
                case .controls: controls
                case .bidiControls: bidiControls
                case .zeroWidth: zeroWidth
                case .spaces: spaces
                case .lineEndings: lineEndings
                case .collapseWhitespace: collapseWhitespace
                case .trim: trim
                case .unicodeForm: unicodeForm
                case .punctuation: punctuation
                case .digits: digits
                }
            }
            set {
                switch step {
                case .repairEncoding: repairEncoding = newValue
                case .controls: controls = newValue
                case .bidiControls: bidiControls = newValue
                case .zeroWidth: zeroWidth = newValue
                case .spaces: spaces = newValue
                case .lineEndings: lineEndings = newValue
                case .collapseWhitespace: collapseWhitespace = newValue
                case .trim: trim = newValue
                case .unicodeForm: unicodeForm = newValue
                case .punctuation: punctuation = newValue
                case .digits: digits = newValue
                }
            }
        }

        /// True when no step changed anything.
        public var isEmpty: Bool { Step.allCases.allSatisfy { self[$0] == 0 } }

        public static func + (a: Counts, b: Counts) -> Counts {
            var r = a
            r += b
            return r
        }

        public static func += (a: inout Counts, b: Counts) {
            for step in Step.allCases { a[step] += b[step] }
        }
    }

    public struct Result: Sendable {
        public var text: String
        public var counts: Counts
    }

    public let configuration: Configuration
    /// Test hook: send every text through ICU even when the quick check says it is normalized.
    var alwaysCallICU = false

    public init(_ configuration: Configuration = .default) {
        self.configuration = configuration
    }

    /// Normalizes a String (already valid Unicode).
    public func normalize(_ text: String) -> Result {
        var text = text
        return text.withUTF8 { normalize(utf8: $0) }
    }

    /// Normalizes raw bytes, repairing invalid UTF-8 with U+FFFD (one per maximal ill-formed
    /// subsequence, as Unicode recommends and Swift does).
    public func normalize(utf8 bytes: UnsafeBufferPointer<UInt8>) -> Result {
        var counts = Counts()
        var text = cleanAndNormalize(bytes, counts: &counts)
        if configuration.foldPunctuation || configuration.foldDigits {
            text = KeyFolding.fold(text, punctuation: configuration.foldPunctuation,
                                   digits: configuration.foldDigits, counts: &counts)
        }
        return Result(text: text, counts: counts)
    }

    public func normalize(utf8 bytes: [UInt8]) -> Result {
        bytes.withUnsafeBufferPointer { normalize(utf8: $0) }
    }

    // MARK: - Passes

    private func cleanAndNormalize(_ input: UnsafeBufferPointer<UInt8>, counts: inout Counts) -> String {
        var cleaned = CleanupPass(configuration: configuration).run(input, counts: &counts)
        guard configuration.form != .none, !cleaned.isInForm || alwaysCallICU else {
            return cleaned.string()
        }
        // Compatibility forms can create spaces (U+00A8 -> " \u{308}") and so undo the
        // whitespace steps; alternate until both agree so the result is idempotent.
        for _ in 0..<4 {
            let before = cleaned.utf16()
            let after = UnicodeForms.normalize(before, form: configuration.form)
            if after != before { counts.unicodeForm += max(cleaned.unstableCount, 1) }
            if !configuration.form.isCompatibility || after == before {
                return String(utf16Units: after)
            }
            var recount = Counts()
            cleaned = String(utf16Units: after).utf8.withContiguousStorageIfAvailable {
                CleanupPass(configuration: configuration).run($0, counts: &recount)
            }!
            counts += recount
            if cleaned.isInForm && !alwaysCallICU { break }
        }
        return cleaned.string()
    }

}

/// Output of the cleanup pass: UTF-8 bytes plus whether the quick check proved them normalized.
struct CleanedText {
    var bytes: [UInt8]
    /// Characters that did not pass the quick check (those ICU may change).
    var unstableCount: Int
    var isInForm: Bool { unstableCount == 0 }

    func string() -> String { String(decoding: bytes, as: UTF8.self) }

    func utf16() -> [UInt16] {
        var units = [UInt16]()
        units.reserveCapacity(bytes.count)
        units.append(contentsOf: String(decoding: bytes, as: UTF8.self).utf16)
        return units
    }
}

/// The single streaming pass: decode with repair, classify, drop, map and collapse.
struct CleanupPass {
    let configuration: Normalizer.Configuration

    func run(_ input: UnsafeBufferPointer<UInt8>, counts: inout Normalizer.Counts) -> CleanedText {
        let table = CharacterTable.shared
        let qcBit = CharacterTable.quickCheckBit(configuration.form)
        let cfg = configuration
        let n = input.count
        var unstable = 0
        var lastCCC: UInt32 = 0

        // Worst case: every byte is invalid and becomes a 3-byte U+FFFD.
        let base = input.baseAddress ?? UnsafePointer(bitPattern: 1)!
        let bytes = [UInt8](unsafeUninitializedCapacity: n * 3 + 4) { out, outCount in
            var i = 0, o = 0
            var lastContentEnd = 0          // output length after the last non-whitespace
            var pendingNewlines = 0         // line breaks since then
            var newlinesFlushed = 0         // of those, already written (before indentation)
            var atLineStart = true
            var seenContent = false
            var previousFlags: UInt32 = 0   // flags of the last base character kept

            @inline(__always) func flushNewlines() {
                guard pendingNewlines > 0, newlinesFlushed == 0 else { return }
                if !seenContent && cfg.trim { counts.trim += pendingNewlines; newlinesFlushed = -1; return }
                let keep = cfg.collapseWhitespace ? min(pendingNewlines, cfg.maxConsecutiveNewlines) : pendingNewlines
                for _ in 0..<keep { out[o] = 0x0A; o += 1 }
                newlinesFlushed = keep
            }

            @inline(__always) func horizontalSpace(_ byte: UInt8) {
                if !seenContent && cfg.trim { counts.trim += 1; return }
                if !cfg.collapseWhitespace { flushNewlines(); out[o] = byte; o += 1; return }
                if atLineStart {
                    if !cfg.preserveIndentation { counts.collapseWhitespace += 1; return }
                    flushNewlines()
                    out[o] = byte; o += 1
                    return
                }
                if byte == 0x20 && o > 0 && out[o - 1] == 0x20 { counts.collapseWhitespace += 1; return }
                out[o] = byte; o += 1
            }

            @inline(__always) func lineBreak() {
                if !cfg.collapseWhitespace {
                    if !seenContent && cfg.trim { counts.trim += 1; return }
                    out[o] = 0x0A; o += 1
                    return
                }
                // Drop trailing spaces of the line (and any newlines written ahead of them).
                let flushed = max(newlinesFlushed, 0)
                counts.collapseWhitespace += o - lastContentEnd - flushed
                o = lastContentEnd
                newlinesFlushed = 0
                pendingNewlines += 1
                atLineStart = true
            }

            @inline(__always) func content(_ source: UnsafePointer<UInt8>, _ length: Int, _ entry: UInt32) {
                if cfg.collapseWhitespace {
                    if pendingNewlines > 0 {
                        flushNewlines()
                        if newlinesFlushed > 0 {
                            counts.collapseWhitespace += pendingNewlines - newlinesFlushed
                        }
                        pendingNewlines = 0
                        newlinesFlushed = 0
                    }
                }
                for k in 0..<length { out[o + k] = source[k] }
                o += length
                lastContentEnd = o
                seenContent = true
                atLineStart = false
                if entry & CharacterTable.mark == 0 { previousFlags = entry }
                if qcBit != 0 {
                    let ccc = (entry >> 16) & 0xFF
                    if entry & qcBit == 0 || (ccc != 0 && ccc < lastCCC) { unstable += 1 }
                    lastCCC = ccc
                }
            }

            while i < n {
                // Decode one scalar, or one maximal ill-formed subsequence.
                let b0 = input[i]
                var scalar: UInt32
                var length: Int
                if b0 < 0x80 {
                    scalar = UInt32(b0); length = 1
                } else {
                    (scalar, length) = decodeMultibyte(input, i)
                    if scalar == 0xFFFF_FFFF {
                        counts.repairEncoding += 1
                        replacementCharacter.withUnsafeBufferPointer {
                            content($0.baseAddress!, 3, table.entry(0xFFFD))
                        }
                        i += length
                        continue
                    }
                }
                let entry = table.entry(scalar)
                switch CharacterTable.Class(rawValue: entry & 0xF)! {
                case .plain:
                    content(base + i, length, entry)
                case .control:
                    if cfg.removeControls { counts.controls += 1 } else { content(base + i, length, entry) }
                case .tab:
                    previousFlags = 0
                    horizontalSpace(0x09)
                case .lineFeed:
                    previousFlags = 0
                    lineBreak()
                case .carriageReturn:
                    previousFlags = 0
                    if !cfg.normalizeLineEndings { content(base + i, length, entry); break }
                    counts.lineEndings += 1
                    if i + 1 < n && input[i + 1] == 0x0A { break }  // the LF that follows breaks
                    lineBreak()
                case .otherNewline:
                    if !cfg.normalizeLineEndings { content(base + i, length, entry); break }
                    previousFlags = 0
                    counts.lineEndings += 1
                    lineBreak()
                case .space:
                    previousFlags = 0
                    horizontalSpace(0x20)
                case .otherSpace:
                    if !cfg.mapSpaces { content(base + i, length, entry); break }
                    previousFlags = 0
                    counts.spaces += 1
                    horizontalSpace(0x20)
                case .bidiControl:
                    if cfg.removeBidiControls { counts.bidiControls += 1 } else { content(base + i, length, entry) }
                case .zeroWidth:
                    if cfg.removeZeroWidth { counts.zeroWidth += 1 } else { content(base + i, length, entry) }
                case .zeroWidthNonJoiner, .zeroWidthJoiner:
                    if !cfg.removeZeroWidth || joinerIsNeeded(entry, previousFlags, input, i + length) {
                        let saved = previousFlags
                        content(base + i, length, entry)
                        previousFlags = saved  // a joiner is transparent for its neighbours
                    } else {
                        counts.zeroWidth += 1
                    }
                }
                i += length
            }
            // End of text.
            if cfg.trim {
                counts.trim += o - lastContentEnd - max(newlinesFlushed, 0)
                if cfg.collapseWhitespace { counts.trim += pendingNewlines }
                o = lastContentEnd
            } else if cfg.collapseWhitespace && pendingNewlines > 0 {
                flushNewlines()
            }
            outCount = o
        }
        return CleanedText(bytes: bytes, unstableCount: unstable)
    }

    /// ZWNJ/ZWJ stay between letters of scripts that need them, and ZWJ inside emoji sequences.
    /// The following character is the next one this pass keeps (removed characters and other
    /// joiners are looked through), so a second pass sees the same neighbours.
    @inline(__always)
    private func joinerIsNeeded(_ joiner: UInt32, _ previous: UInt32,
                                _ input: UnsafeBufferPointer<UInt8>, _ start: Int) -> Bool {
        let table = CharacterTable.shared
        var next = start
        var following: UInt32 = 0
        while next < input.count {
            let scalar: UInt32, length: Int
            if input[next] < 0x80 { (scalar, length) = (UInt32(input[next]), 1) } else { (scalar, length) = decodeMultibyte(input, next) }
            if scalar == 0xFFFF_FFFF { return false }
            let entry = table.entry(scalar)
            switch CharacterTable.Class(rawValue: entry & 0xF)! {
            case .control where configuration.removeControls,
                 .bidiControl where configuration.removeBidiControls,
                 .zeroWidth, .zeroWidthJoiner, .zeroWidthNonJoiner:
                next += length
                continue
            default:
                following = entry
            }
            break
        }
        guard next < input.count else { return false }
        if previous & CharacterTable.joiningScript != 0 && following & CharacterTable.joiningScript != 0 {
            return true
        }
        let isZWJ = joiner & 0xF == CharacterTable.Class.zeroWidthJoiner.rawValue
        return isZWJ && previous & CharacterTable.emoji != 0 && following & CharacterTable.pictographic != 0
    }
}

private let replacementCharacter: [UInt8] = [0xEF, 0xBF, 0xBD]

/// Decodes a multi-byte UTF-8 sequence at `i`. Returns (0xFFFFFFFF, length of the maximal
/// ill-formed subpart) when invalid.
@inline(__always)
func decodeMultibyte(_ s: UnsafeBufferPointer<UInt8>, _ i: Int) -> (UInt32, Int) {
    let n = s.count
    let b0 = s[i]
    @inline(__always) func cont(_ k: Int, _ lo: UInt8 = 0x80, _ hi: UInt8 = 0xBF) -> Bool {
        i + k < n && s[i + k] >= lo && s[i + k] <= hi
    }
    switch b0 {
    case 0xC2...0xDF:
        guard cont(1) else { return (0xFFFF_FFFF, 1) }
        return (UInt32(b0 & 0x1F) << 6 | UInt32(s[i + 1] & 0x3F), 2)
    case 0xE0...0xEF:
        let lo: UInt8 = b0 == 0xE0 ? 0xA0 : 0x80
        let hi: UInt8 = b0 == 0xED ? 0x9F : 0xBF
        guard cont(1, lo, hi) else { return (0xFFFF_FFFF, 1) }
        guard cont(2) else { return (0xFFFF_FFFF, 2) }
        return (UInt32(b0 & 0x0F) << 12 | UInt32(s[i + 1] & 0x3F) << 6 | UInt32(s[i + 2] & 0x3F), 3)
    case 0xF0...0xF4:
        let lo: UInt8 = b0 == 0xF0 ? 0x90 : 0x80
        let hi: UInt8 = b0 == 0xF4 ? 0x8F : 0xBF
        guard cont(1, lo, hi) else { return (0xFFFF_FFFF, 1) }
        guard cont(2) else { return (0xFFFF_FFFF, 2) }
        guard cont(3) else { return (0xFFFF_FFFF, 3) }
        return (UInt32(b0 & 0x07) << 18 | UInt32(s[i + 1] & 0x3F) << 12
                | UInt32(s[i + 2] & 0x3F) << 6 | UInt32(s[i + 3] & 0x3F), 4)
    default:
        return (0xFFFF_FFFF, 1)
    }
}
