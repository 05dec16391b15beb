import CICUShim

/// Output of the cleanup pass: UTF-8 bytes, and the windows that may still need ICU.
struct CleanedText {
    /// A byte range that starts and ends at normalization boundaries (next to characters ICU
    /// calls inert) and holds characters that failed the quick check.
    struct Window {
        var start: Int
        var end: Int
        var unstable: Int
    }

    var bytes: [UInt8]
    var windows: [Window]
    var unstableCount: Int { windows.reduce(0) { $0 + $1.unstable } }

    func string() -> String { String(decoding: bytes, as: UTF8.self) }

    /// Runs ICU on the windows only and splices the results in (canonical forms: they never
    /// create characters the cleanup steps would touch).
    func normalizingWindows(form: Normalizer.Form, counts: inout Normalizer.Counts) -> String {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count + bytes.count / 8 + 16)
        var copied = 0
        bytes.withUnsafeBufferPointer { all in
            for window in windows {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: all[copied..<window.start]))
                let piece = UnsafeBufferPointer(rebasing: all[window.start..<window.end])
                let before = UTF.utf16(piece)
                let after = UnicodeForms.normalize(before, form: form)
                if after == before {
                    out.append(contentsOf: piece)
                } else {
                    counts.unicodeForm += window.unstable
                    after.withUnsafeBufferPointer { UTF.appendUTF8($0, to: &out) }
                }
                copied = window.end
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: all[copied...]))
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// The single streaming pass: decode with repair, classify, drop, map and collapse, and note
/// where ICU is still needed.
struct CleanupPass {
    let configuration: Normalizer.Configuration

    func run(_ input: UnsafeBufferPointer<UInt8>, counts: inout Normalizer.Counts) -> CleanedText {
        let n = input.count
        var windows: [CleanedText.Window] = []
        // Worst case: every byte is invalid and becomes a 3-byte U+FFFD.
        let bytes = [UInt8](unsafeUninitializedCapacity: n * 3 + 4) { out, outCount in
            var state = State(configuration: configuration, input: input, out: out.baseAddress!)
            state.run()
            outCount = state.o
            counts += state.counts
            windows = state.windows
        }
        return CleanedText(bytes: bytes, windows: windows)
    }

    private struct State {
        let cfg: Normalizer.Configuration
        let input: UnsafeBufferPointer<UInt8>
        let base: UnsafePointer<UInt8>
        let out: UnsafeMutablePointer<UInt8>
        let table = CharacterTable.shared
        let qcBit: UInt32
        let inertBit: UInt32
        /// ASCII printable bytes that can be copied as they are (upper case excluded when folding).
        let asciiRunLimit: (UInt8, UInt8)

        var counts = Normalizer.Counts()
        var windows: [CleanedText.Window] = []
        var o = 0
        var lastContentEnd = 0      // output length after the last non-whitespace
        var pendingNewlines = 0     // line breaks since then
        var newlinesFlushed = 0     // of those, already written (-1: dropped by trim)
        var atLineStart = true
        var seenContent = false
        var previousFlags: UInt32 = 0  // flags of the last base character kept
        var lastCCC: UInt32 = 0
        var lastBoundary = 0        // output offset known to be a normalization boundary
        var inWindow = false

        init(configuration: Normalizer.Configuration, input: UnsafeBufferPointer<UInt8>, out: UnsafeMutablePointer<UInt8>) {
            cfg = configuration
            self.input = input
            base = input.baseAddress ?? UnsafePointer(bitPattern: 1)!
            self.out = out
            qcBit = CharacterTable.quickCheckBit(configuration.form)
            inertBit = CharacterTable.inertBit(configuration.form)
            asciiRunLimit = configuration.form == .nfkcCasefold ? (0x5B, 0x7E) : (0x21, 0x7E)
        }

        mutating func run() {
            let n = input.count
            var i = 0
            while i < n {
                let b0 = base[i]
                // Fast path: outside an ICU window, a run of characters that no step changes
                // (printable ASCII; letters, marks and symbols that pass the quick check with
                // combining class 0) is checked with one table lookup each and copied at once.
                if !inWindow {
                    let (j, flags, ccc) = simpleRun(from: i)
                    if j > i {
                        beginContent()
                        (out + o).update(from: base + i, count: j - i)
                        o += j - i
                        endContent()
                        previousFlags = flags
                        lastCCC = ccc
                        i = j
                        continue
                    }
                }
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
                    horizontalSpace(0x09)
                case .lineFeed:
                    lineBreak()
                case .carriageReturn:
                    if !cfg.normalizeLineEndings { content(base + i, length, entry); break }
                    counts.lineEndings += 1
                    if i + 1 < n && base[i + 1] == 0x0A { break }  // the LF that follows breaks
                    lineBreak()
                case .otherNewline:
                    if !cfg.normalizeLineEndings { content(base + i, length, entry); break }
                    counts.lineEndings += 1
                    lineBreak()
                case .space:
                    horizontalSpace(0x20)
                case .otherSpace:
                    if !cfg.mapSpaces { content(base + i, length, entry); break }
                    counts.spaces += 1
                    horizontalSpace(0x20)
                case .bidiControl:
                    if cfg.removeBidiControls { counts.bidiControls += 1 } else { content(base + i, length, entry) }
                case .zeroWidth:
                    if cfg.removeZeroWidth { counts.zeroWidth += 1 } else { content(base + i, length, entry) }
                case .zeroWidthNonJoiner, .zeroWidthJoiner:
                    if !cfg.removeZeroWidth || joinerIsNeeded(entry, i + length) {
                        let saved = previousFlags
                        content(base + i, length, entry)
                        previousFlags = saved  // a joiner is transparent for its neighbours
                    } else {
                        counts.zeroWidth += 1
                    }
                }
                i += length
            }
            finish()
        }

        /// End of the run of unchanged characters starting at `i` (== i when there is none), with
        /// the context flags and combining class it leaves behind.
        @inline(__always)
        func simpleRun(from start: Int) -> (end: Int, flags: UInt32, ccc: UInt32) {
            let n = input.count
            let entries = table.entries.withUnsafeBufferPointer { $0.baseAddress! }
            let mask: UInt32 = 0xF | qcBit
            var ccc = lastCCC
            var flags = previousFlags
            var i = start
            var end = start  // after the last non-space character of the run
            var flagsAtEnd = previousFlags
            var cccAtEnd = lastCCC
            // Single spaces between kept characters stay as they are; a run never ends in one.
            let spaceAllowed = cfg.collapseWhitespace && !atLineStart && (o > 0 && out[o - 1] != 0x20)
            while i < n {
                let b0 = base[i]
                if b0 < 0x80 {
                    if b0 >= asciiRunLimit.0 && b0 <= asciiRunLimit.1 {
                        flags = 0
                        ccc = 0
                        i += 1
                        end = i
                        flagsAtEnd = 0
                        cccAtEnd = 0
                        continue
                    }
                    guard b0 == 0x20, i > start || spaceAllowed, i + 1 < n, base[i + 1] > 0x20, base[i + 1] != 0x7F else { break }
                    flags = 0
                    ccc = 0
                    i += 1
                    continue
                }
                let c: UInt32, length: Int
                if b0 >= 0xC2 && b0 < 0xE0 && i + 1 < n && base[i + 1] & 0xC0 == 0x80 {
                    c = UInt32(b0 & 0x1F) << 6 | UInt32(base[i + 1] & 0x3F); length = 2
                } else if b0 >= 0xE0 && b0 < 0xF0 && i + 2 < n
                            && base[i + 1] & 0xC0 == 0x80 && base[i + 2] & 0xC0 == 0x80
                            && (b0 != 0xE0 || base[i + 1] >= 0xA0) && (b0 != 0xED || base[i + 1] < 0xA0) {
                    c = UInt32(b0 & 0x0F) << 12 | UInt32(base[i + 1] & 0x3F) << 6 | UInt32(base[i + 2] & 0x3F); length = 3
                } else if b0 >= 0xF0 && b0 <= 0xF4 {
                    let (d, l) = decodeMultibyte(input, i)
                    guard d != 0xFFFF_FFFF && d < CharacterTable.tableLimit else { break }
                    c = d; length = l
                } else {
                    break  // anything invalid takes the careful path
                }
                let entry = entries[Int(c)]
                guard entry & mask == qcBit else { break }  // plain class, quick check yes
                let cc = (entry >> 16) & 0xFF
                if cc != 0 && cc < ccc { break }             // out of canonical order
                ccc = cc
                if entry & CharacterTable.mark == 0 { flags = entry }
                i += length
                end = i
                flagsAtEnd = flags
                cccAtEnd = ccc
            }
            return (end, flagsAtEnd, cccAtEnd)
        }

        // MARK: Writing

        @inline(__always)
        mutating func beginContent() {
            guard pendingNewlines > 0 else { return }
            if cfg.collapseWhitespace {
                flushNewlines()
                if newlinesFlushed > 0 { counts.collapseWhitespace += pendingNewlines - newlinesFlushed }
            }
            pendingNewlines = 0
            newlinesFlushed = 0
        }

        @inline(__always)
        mutating func endContent() {
            lastContentEnd = o
            seenContent = true
            atLineStart = false
        }

        @inline(__always)
        mutating func content(_ source: UnsafePointer<UInt8>, _ length: Int, _ entry: UInt32) {
            beginContent()
            if qcBit != 0 {
                let ccc = (entry >> 16) & 0xFF
                if entry & qcBit == 0 || (ccc != 0 && ccc < lastCCC) {
                    if !inWindow {
                        windows.append(.init(start: min(lastBoundary, o), end: o, unstable: 0))
                        inWindow = true
                    }
                    windows[windows.count - 1].unstable += 1
                } else if inWindow && entry & inertBit != 0 {
                    closeWindow(at: o)
                }
                lastCCC = ccc
            }
            for k in 0..<length { out[o + k] = source[k] }
            o += length
            if entry & inertBit != 0 { lastBoundary = o }
            endContent()
            if entry & CharacterTable.mark == 0 { previousFlags = entry }
        }

        @inline(__always)
        mutating func closeWindow(at offset: Int) {
            windows[windows.count - 1].end = offset
            inWindow = false
        }

        /// Whitespace written to the output is a normalization boundary on both sides.
        @inline(__always)
        mutating func whitespace(_ byte: UInt8) {
            if inWindow { closeWindow(at: o) }
            out[o] = byte
            o += 1
            lastBoundary = o
            lastCCC = 0
        }

        mutating func flushNewlines() {
            guard pendingNewlines > 0, newlinesFlushed == 0 else { return }
            if !seenContent && cfg.trim { counts.trim += pendingNewlines; newlinesFlushed = -1; return }
            let keep = cfg.collapseWhitespace ? min(pendingNewlines, cfg.maxConsecutiveNewlines) : pendingNewlines
            for _ in 0..<keep { whitespace(0x0A) }
            newlinesFlushed = keep
        }

        mutating func horizontalSpace(_ byte: UInt8) {
            previousFlags = 0
            if !seenContent && cfg.trim { counts.trim += 1; return }
            if !cfg.collapseWhitespace { flushNewlines(); whitespace(byte); return }
            if atLineStart {
                if !cfg.preserveIndentation { counts.collapseWhitespace += 1; return }
                flushNewlines()
                whitespace(byte)
                return
            }
            if byte == 0x20 && o > 0 && out[o - 1] == 0x20 { counts.collapseWhitespace += 1; return }
            whitespace(byte)
        }

        mutating func lineBreak() {
            previousFlags = 0
            if !cfg.collapseWhitespace {
                if !seenContent && cfg.trim { counts.trim += 1; return }
                whitespace(0x0A)
                return
            }
            if inWindow { closeWindow(at: o) }
            // Drop trailing spaces of the line (and any newlines written ahead of them).
            counts.collapseWhitespace += o - lastContentEnd - max(newlinesFlushed, 0)
            o = lastContentEnd
            lastBoundary = min(lastBoundary, o)
            newlinesFlushed = 0
            pendingNewlines += 1
            atLineStart = true
        }

        mutating func finish() {
            if inWindow { closeWindow(at: o) }
            if cfg.trim {
                counts.trim += o - lastContentEnd - max(newlinesFlushed, 0)
                if cfg.collapseWhitespace { counts.trim += pendingNewlines }
                o = lastContentEnd
            } else if cfg.collapseWhitespace && pendingNewlines > 0 {
                flushNewlines()
            }
            // Trimming only removes whitespace after the last window, but keep ends in range.
            for k in windows.indices { windows[k].end = min(windows[k].end, o) }
        }

        /// ZWNJ/ZWJ stay between letters of scripts that need them, and ZWJ inside emoji
        /// sequences. The following character is the next base character this pass keeps
        /// (removed characters, marks and other joiners are looked through), so a second pass
        /// agrees.
        func joinerIsNeeded(_ joiner: UInt32, _ start: Int) -> Bool {
            var next = start
            var following: UInt32 = 0
            while next < input.count {
                let scalar: UInt32, length: Int
                if base[next] < 0x80 { (scalar, length) = (UInt32(base[next]), 1) } else { (scalar, length) = decodeMultibyte(input, next) }
                if scalar == 0xFFFF_FFFF { return false }
                let entry = table.entry(scalar)
                switch CharacterTable.Class(rawValue: entry & 0xF)! {
                case .control where cfg.removeControls,
                     .bidiControl where cfg.removeBidiControls,
                     .zeroWidth, .zeroWidthJoiner, .zeroWidthNonJoiner:
                    next += length
                    continue
                case .plain where entry & CharacterTable.mark != 0:
                    // Marks are looked through: normalization may reorder them.
                    next += length
                    continue
                default:
                    following = entry
                }
                break
            }
            guard next < input.count else { return false }
            if previousFlags & CharacterTable.joiningScript != 0 && following & CharacterTable.joiningScript != 0 {
                return true
            }
            let isZWJ = joiner & 0xF == CharacterTable.Class.zeroWidthJoiner.rawValue
            return isZWJ && previousFlags & CharacterTable.emoji != 0 && following & CharacterTable.pictographic != 0
        }
    }
}

private let replacementCharacter: [UInt8] = [0xEF, 0xBF, 0xBD]

/// Decodes a multi-byte UTF-8 sequence at `i`. Returns (0xFFFFFFFF, length of the maximal
/// ill-formed subpart) when invalid — one U+FFFD per subpart, as Unicode recommends. Public so
/// every UTF-8 reader in Glossa repairs the same way.
@inlinable @inline(__always)
public func decodeMultibyte(_ s: UnsafeBufferPointer<UInt8>, _ i: Int) -> (UInt32, Int) {
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
