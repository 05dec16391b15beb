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
        public var isEmpty: Bool { self == Counts() }

        public static func + (a: Counts, b: Counts) -> Counts {
            var r = a
            r += b
            return r
        }

        public static func += (a: inout Counts, b: Counts) {
            a.repairEncoding += b.repairEncoding; a.controls += b.controls
            a.bidiControls += b.bidiControls; a.zeroWidth += b.zeroWidth; a.spaces += b.spaces
            a.lineEndings += b.lineEndings; a.collapseWhitespace += b.collapseWhitespace
            a.trim += b.trim; a.unicodeForm += b.unicodeForm; a.punctuation += b.punctuation
            a.digits += b.digits
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
        let original = text
        return text.withUTF8 { normalize(utf8: $0, original: original) }
    }

    /// Normalizes raw bytes, repairing invalid UTF-8 with U+FFFD (one per maximal ill-formed
    /// subsequence, as Unicode recommends and Swift does).
    public func normalize(utf8 bytes: UnsafeBufferPointer<UInt8>) -> Result {
        normalize(utf8: bytes, original: nil)
    }

    /// `original`, when given, is the String whose bytes these are: returned as it is when no
    /// step changes anything, which saves building and validating a new String.
    private func normalize(utf8 bytes: UnsafeBufferPointer<UInt8>, original: String?) -> Result {
        var counts = Counts()
        var text = cleanAndNormalize(bytes, original: original, counts: &counts)
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

    private func cleanAndNormalize(_ input: UnsafeBufferPointer<UInt8>, original: String?, counts: inout Counts) -> String {
        let pass = CleanupPass(configuration: configuration)
        var cleaned = pass.run(input, counts: &counts)
        let form = configuration.form
        guard form != .none, !cleaned.windows.isEmpty || alwaysCallICU else {
            if let original, counts.isEmpty, cleaned.bytes.count == input.count { return original }
            return cleaned.string()
        }
        if !form.isCompatibility && !alwaysCallICU {
            return cleaned.normalizingWindows(form: form, counts: &counts)
        }
        // Compatibility forms can create spaces (U+00A8 -> " \u{308}") and so undo the
        // whitespace steps; alternate until both agree so the result is idempotent.
        for _ in 0..<4 {
            let before = UTF.utf16(cleaned.bytes[...])
            let after = UnicodeForms.normalize(before, form: form)
            if after != before { counts.unicodeForm += max(cleaned.unstableCount, 1) }
            if !form.isCompatibility || after == before { return UTF.string(utf16: after) }
            var recount = Counts()
            let bytes = UTF.utf8(after)
            cleaned = bytes.withUnsafeBufferPointer { pass.run($0, counts: &recount) }
            counts += recount
            if cleaned.windows.isEmpty && !alwaysCallICU { break }
        }
        return cleaned.string()
    }


}

