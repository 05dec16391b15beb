import GlossaIO

/// The text fields a stage reads: strings, or arrays of strings (ticket comments).
struct TextFields {
    let names: [String]

    /// Applies `body` to every string of the listed fields; rejects records with none of the
    /// fields or with a field of another type.
    func forEachText(in record: inout JSONObject, _ body: (inout String) -> Void) -> Rejection? {
        var found = false
        var nulls: [String] = []
        for name in names {
            guard let value = record[name] else { continue }
            switch value {
            case var .string(text):
                found = true
                body(&text)
                record[name] = .string(text)
            case let .array(items) where items.allSatisfy({ $0.stringValue != nil }):
                found = true
                record[name] = .array(items.map { item in
                    var text = item.stringValue ?? ""
                    body(&text)
                    return .string(text)
                })
            case .null:
                nulls.append(name)
            default:
                return Rejection(Rejection.fieldNotText, "field '\(name)' is \(value.kindName), expected a string or an array of strings")
            }
        }
        if found { return nil }
        if nulls.isEmpty { return Rejection(Rejection.missingField, "none of the fields \(names.joined(separator: ", ")) is present") }
        let absent = names.filter { !nulls.contains($0) }
        return Rejection(Rejection.missingField, "no text to read: " + nulls.map { "'\($0)'" }.joined(separator: ", ") + " null"
                         + (absent.isEmpty ? "" : ", " + absent.map { "'\($0)'" }.joined(separator: ", ") + " absent"))
    }
}
