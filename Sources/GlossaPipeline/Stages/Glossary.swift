import Foundation
import GlossaIO

/// Glossary terms for `translate`: reading `glossary_file` and finding a source term in text.
///
/// Case rules: a source term is found case-insensitively; where it begins or ends with a
/// letter or digit of a script written with spaces (Latin, Cyrillic, Greek, ...) it must stand
/// as a whole word there, so "API" is not found in "RAPID". Scripts without spaces (Han, kana,
/// Thai) match anywhere. The target term is required verbatim, case included.
enum Glossary {
    /// A TSV file: `source<TAB>target` lines, or `language<TAB>source<TAB>target` lines of
    /// which only those for `target` are kept. Empty lines and `#` comments are skipped.
    static func read(path: String, target: String) throws(GlossaError) -> [(String, String)] {
        guard let data = FileManager.default.contents(atPath: path) else { throw GlossaError.invalidArgument("cannot read \(path)") }
        guard let text = String(data: data, encoding: .utf8) else { throw GlossaError.invalidArgument("\(path) is not UTF-8 text") }
        var terms: [(String, String)] = []
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
            if line.trimmingCharacters(in: .whitespaces).isEmpty || line.hasPrefix("#") { continue }
            let columns = line.split(separator: "\t", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            switch columns.count {
            case 2 where !columns[0].isEmpty && !columns[1].isEmpty:
                terms.append((columns[0], columns[1]))
            case 3 where !columns[1].isEmpty && !columns[2].isEmpty:
                if columns[0].lowercased().replacingOccurrences(of: "_", with: "-") == target.lowercased() { terms.append((columns[1], columns[2])) }
            default:
                throw GlossaError.invalidArgument("\(path) line \(n + 1): expected 'source<TAB>target' or 'language<TAB>source<TAB>target'")
            }
        }
        return terms
    }

    /// Whether `term` occurs in `text` under the case rules above.
    static func occurs(_ term: String, in text: String) -> Bool {
        var from = text.startIndex
        while let r = text.range(of: term, options: [.caseInsensitive], range: from..<text.endIndex) {
            let beforeOK = r.lowerBound == text.startIndex || !(isSpacedWordCharacter(term.first) && isSpacedWordCharacter(text[text.index(before: r.lowerBound)]))
            let afterOK = r.upperBound == text.endIndex || !(isSpacedWordCharacter(term.last) && isSpacedWordCharacter(text[r.upperBound]))
            if beforeOK && afterOK { return true }
            from = text.index(after: r.lowerBound)
        }
        return false
    }

    /// A letter or digit of a script that separates words with spaces.
    private static func isSpacedWordCharacter(_ c: Character?) -> Bool {
        guard let c, c.isLetter || c.isNumber else { return false }
        return !ProtectedText.isSpaceless(c)
    }
}
