import CICUShim

/// A maximal run of text in one script.
public struct ScriptSpan: Sendable, Hashable {
    /// ISO 15924 code: "Latn", "Cyrl", "Hani"; "Zyyy" (Common) for text without letters.
    public var script: String
    public var range: Range<String.Index>

    public init(script: String, range: Range<String.Index>) {
        self.script = script
        self.range = range
    }
}

/// Code points per script, for filtering text by script.
///
/// Only code points of a real script count: Common (punctuation, digits, spaces, emoji),
/// Inherited (most combining marks) and Unknown are left out. Japanese and Korean stay split
/// into their scripts here ("Hira", "Kana", "Hani", "Hang"); `ScriptDetector.dominantScript`
/// groups them.
public struct ScriptCounts: Sendable, Equatable {
    /// Scripts in order of first appearance.
    public private(set) var scripts: [String] = []
    public private(set) var counts: [String: Int] = [:]
    /// All counted code points.
    public private(set) var total = 0

    public init() {}

    public subscript(_ script: String) -> Int { counts[script] ?? 0 }

    /// Share of the counted code points in `script`, 0 when nothing was counted.
    public func fraction(of script: String) -> Double {
        total == 0 ? 0 : Double(self[script]) / Double(total)
    }

    /// Scripts by descending count; ties keep the order of first appearance.
    public var byCount: [(script: String, count: Int)] {
        scripts.enumerated()
            .sorted { a, b in
                let (ca, cb) = (counts[a.element]!, counts[b.element]!)
                return ca != cb ? ca > cb : a.offset < b.offset
            }
            .map { ($0.element, counts[$0.element]!) }
    }

    mutating func add(_ script: String, _ count: Int) {
        guard count > 0 else { return }
        if counts[script] == nil { scripts.append(script) }
        counts[script, default: 0] += count
        total += count
    }
}

/// Finds which scripts a text is written in, from ICU's Script and Script_Extensions
/// properties (UAX #24).
///
/// Stateless: ICU's property lookups are thread-safe, and the transliterators used to tell
/// simplified from traditional Chinese are opened per call (ICU caches their compiled rules,
/// so an open costs microseconds), so the struct is `Sendable` without locks.
public struct ScriptDetector: Sendable {
    public init() {}

    // MARK: - Spans

    /// Maximal runs of one script, covering the whole text in order.
    ///
    /// Common and Inherited characters (spaces, digits, punctuation, combining marks) attach to
    /// the run before them, or at the start of the text to the first run. A character shared
    /// by several scripts (Script_Extensions: the Devanagari danda, the kana prolonged sound
    /// mark, Arabic-Indic digits) stays in the current run if its script is among them, else
    /// opens the next run when that run's script is among them. Text without any
    /// script-specific character is one "Zyyy" span; empty text has no spans.
    public func spans(in text: String) -> [ScriptSpan] {
        let scalars = text.unicodeScalars
        guard !scalars.isEmpty else { return [] }
        var indices: [String.Index] = []
        var kinds: [ScalarScripts] = []
        indices.reserveCapacity(text.utf8.count)
        kinds.reserveCapacity(text.utf8.count)
        for i in scalars.indices {
            indices.append(i)
            kinds.append(ScalarScripts(scalars[i].value))
        }
        // The script of the next single-script character after each position, or -1.
        var nextSingle = [Int32](repeating: -1, count: kinds.count)
        var upcoming: Int32 = -1
        for k in kinds.indices.reversed() {
            nextSingle[k] = upcoming
            if case .single(let s) = kinds[k] { upcoming = s }
        }

        var runs: [(script: Int32, start: Int)] = []
        var current: Int32 = -1
        func open(_ script: Int32, at k: Int) {
            // The first run also takes the Common characters that lead the text.
            runs.append((script, runs.isEmpty ? 0 : k))
            current = script
        }
        for k in kinds.indices {
            switch kinds[k] {
            case .neutral:
                break
            case .single(let s):
                if s != current { open(s, at: k) }
            case .multiple(let primary, let scripts):
                if scripts.contains(current) { break }
                if scripts.contains(nextSingle[k]) {
                    open(nextSingle[k], at: k)
                } else if primary >= 0 {
                    open(primary, at: k)
                } // else: shared punctuation no neighbour claims stays with the current run
            }
        }

        guard !runs.isEmpty else { return [ScriptSpan(script: "Zyyy", range: text.startIndex..<text.endIndex)] }
        var spans: [ScriptSpan] = []
        spans.reserveCapacity(runs.count)
        for (n, run) in runs.enumerated() {
            let end = n + 1 < runs.count ? indices[runs[n + 1].start] : text.endIndex
            spans.append(ScriptSpan(script: Self.code(run.script), range: indices[run.start]..<end))
        }
        return spans
    }

    // MARK: - Counts

    /// Code points per script (see `ScriptCounts` for what is counted).
    public func histogram(of text: String) -> ScriptCounts {
        var table = [Int](repeating: 0, count: 256)
        var order: [Int32] = []
        for scalar in text.unicodeScalars {
            let c = scalar.value
            let script: Int32
            if c < 0x80 {
                guard ScalarScripts.isASCIILetter(c) else { continue }
                script = Script.latin
            } else {
                script = glossa_script(c)
                guard script >= 0, !Script.isNeutral(script), script < 256 else { continue }
            }
            if table[Int(script)] == 0 { order.append(script) }
            table[Int(script)] += 1
        }
        var counts = ScriptCounts()
        for script in order { counts.add(Self.code(script), table[Int(script)]) }
        return counts
    }

    /// The script most of the text's letters are in, or nil when it has none.
    ///
    /// Writing systems that mix scripts are compared as wholes and named as in
    /// `LanguageRegistry`: kana with or without Han is "Jpan", Hangul with or without Han
    /// "Kore" (modern Korean rarely uses Hanja). Han on its own is "Hans" or "Hant" when the
    /// text has characters that exist only in one of the two orthographies, else "Hani".
    public func dominantScript(of text: String) -> String? {
        let histogram = histogram(of: text)
        guard histogram.total > 0 else { return nil }
        let kana = histogram["Hira"] + histogram["Kana"]
        let hangul = histogram["Hang"]
        let han = histogram["Hani"]

        // Fold the CJK scripts into writing systems, keeping first-appearance order for ties.
        var groups = ScriptCounts()
        for script in histogram.scripts {
            let count = histogram[script]
            switch script {
            case "Hira", "Kana": groups.add("Jpan", count)
            case "Hang": groups.add("Kore", count)
            case "Hani":
                if kana > 0 && kana >= hangul { groups.add("Jpan", count) }
                else if hangul > 0 { groups.add("Kore", count) }
                else { groups.add("Hani", count) }
            default: groups.add(script, count)
            }
        }
        let top = groups.byCount[0].script
        guard top == "Hani", han > 0 else { return top }
        return hanOrthography(of: text)
    }

    /// "Hans" or "Hant" by which orthography's distinctive characters the text uses more,
    /// "Hani" on a tie (including texts whose characters are shared by both).
    ///
    /// A Han character counts as traditional-only when ICU's Hant-Hans transliterator changes
    /// it and Hans-Hant does not, and the other way round for simplified-only. Each distinct
    /// character is converted alone: context-free, but conversion then never shifts positions.
    public func hanOrthography(of text: String) -> String {
        var distinct: [UInt32: Int] = [:]
        for scalar in text.unicodeScalars where scalar.value >= 0x2E80 {
            if glossa_script(scalar.value) == Script.han { distinct[scalar.value, default: 0] += 1 }
        }
        guard !distinct.isEmpty,
              let toSimplified = Transliterator("Hant-Hans"),
              let toTraditional = Transliterator("Hans-Hant")
        else { return "Hani" }
        var traditionalOnly = 0, simplifiedOnly = 0
        for (c, count) in distinct {
            let isTraditional = toSimplified.changes(c)
            let isSimplified = toTraditional.changes(c)
            if isTraditional && !isSimplified { traditionalOnly += count }
            if isSimplified && !isTraditional { simplifiedOnly += count }
        }
        if traditionalOnly > simplifiedOnly { return "Hant" }
        if simplifiedOnly > traditionalOnly { return "Hans" }
        return "Hani"
    }

    /// Whether `code` is an ISO 15924 script code ICU knows, written as the detector writes
    /// them: four letters, the first upper case ("Latn", "Cyrl", "Hans", "Jpan").
    public static func isScriptCode(_ code: String) -> Bool {
        let letters = Array(code.unicodeScalars)
        guard letters.count == 4, ("A"..."Z").contains(letters[0]), letters.dropFirst().allSatisfy({ ("a"..."z").contains($0) }) else {
            return false
        }
        let script = glossa_script_from_code(code)
        return script >= 0 && Self.code(script) == code
    }

    // MARK: - ICU plumbing

    static func code(_ script: Int32) -> String {
        guard let name = glossa_script_code(script) else { return "Zzzz" }
        return String(cString: name)
    }
}

/// UScriptCode values used here (stable ICU API constants).
enum Script {
    static let common: Int32 = 0, inherited: Int32 = 1, han: Int32 = 17, latin: Int32 = 25
    static let unknown: Int32 = 103

    /// Scripts that do not make a run of their own.
    @inline(__always) static func isNeutral(_ s: Int32) -> Bool {
        s == common || s == inherited || s == unknown
    }
}

/// What Script and Script_Extensions say about one code point.
enum ScalarScripts: Equatable {
    /// Common, Inherited or Unknown without extensions: goes with whatever run it is in.
    case neutral
    /// Exactly one script.
    case single(Int32)
    /// Shared by several scripts (or a Common character restricted to a few); `primary` is
    /// its Script value when that is a real script, else -1.
    case multiple(primary: Int32, scripts: [Int32])

    init(_ c: UInt32) {
        // ASCII has no Script_Extensions; letters are Latin, the rest Common.
        if c < 0x80 {
            self = Self.isASCIILetter(c) ? .single(Script.latin) : .neutral
        } else {
            self.init(icu: c)
        }
    }

    init(icu c: UInt32) {
        let primary = glossa_script(c)
        let scripts: [Int32] = withUnsafeTemporaryAllocation(of: Int32.self, capacity: 64) { buffer in
            let n = Int(glossa_script_extensions(c, buffer.baseAddress!, 64))
            if n <= 64 { return Array(buffer.prefix(max(n, 0))) }
            return [Int32](unsafeUninitializedCapacity: n) { out, count in
                count = max(Int(glossa_script_extensions(c, out.baseAddress!, Int32(n))), 0)
            }
        }
        if scripts.count <= 1 && (scripts.first ?? primary) == primary {
            self = primary < 0 || Script.isNeutral(primary) ? .neutral : .single(primary)
        } else {
            self = .multiple(primary: Script.isNeutral(primary) ? -1 : primary, scripts: scripts)
        }
    }

    @inline(__always) static func isASCIILetter(_ c: UInt32) -> Bool {
        (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7A
    }
}

/// One ICU transliterator handle, closed with its owner. Not thread-safe: keep it local.
final class Transliterator {
    private let handle: UnsafeMutableRawPointer

    init?(_ identifier: String) {
        var status: Int32 = 0
        guard let handle = glossa_translit_open(identifier, &status), status <= 0 else { return nil }
        self.handle = handle
    }

    deinit { glossa_translit_close(handle) }

    /// Transliterates text; nil if ICU fails.
    func callAsFunction(_ text: String) -> String? {
        let units = text.utf16Array
        var capacity = units.count * 2 + 16
        for _ in 0..<2 {
            var buffer = units + [UInt16](repeating: 0, count: capacity - units.count)
            var status: Int32 = 0
            let n = buffer.withUnsafeMutableBufferPointer {
                glossa_translit(handle, $0.baseAddress!, Int32(units.count), Int32(capacity), &status)
            }
            if status == ICU.bufferOverflow { capacity = Int(n) + 16; continue }
            guard status <= 0 else { return nil }
            return String(utf16Units: Array(buffer.prefix(Int(n))))
        }
        return nil
    }

    /// Whether transliterating the single code point `c` changes it.
    func changes(_ c: UInt32) -> Bool {
        guard let scalar = Unicode.Scalar(c) else { return false }
        let original = Array(String(scalar).utf16)
        return withUnsafeTemporaryAllocation(of: UInt16.self, capacity: 32) { buffer in
            _ = buffer.initialize(from: original)
            var status: Int32 = 0
            let n = glossa_translit(handle, buffer.baseAddress!, Int32(original.count), 32, &status)
            if status > 0 { return status == ICU.bufferOverflow }
            return !buffer.prefix(Int(n)).elementsEqual(original)
        }
    }
}
