/// One step applied to each record of a stream (normalize, detect-language, ...).
///
/// Steps are pure per record, so a job can run them on all cores; each keeps its own
/// statistics, merged in input order.
public protocol RecordStep: Sendable {
    associatedtype Stats: StepStats
    /// Changes `record` in place, or returns why it must go to the rejects file.
    /// `repairs` counts U+FFFD substitutions made while decoding the record.
    func process(_ record: inout JSONObject, repairs: Int, stats: inout Stats) -> Rejection?
}

public protocol StepStats: Sendable {
    init()
    mutating func merge(_ other: Self)
    var json: JSONValue { get }
}

/// Why a record was rejected: a machine-readable reason and a message for people.
public struct Rejection: Sendable, Equatable {
    public var reason: String
    public var message: String

    public init(_ reason: String, _ message: String) {
        self.reason = reason
        self.message = message
    }

    public static let malformedJSON = "malformed_json"
    public static let notAnObject = "not_an_object"
    public static let missingField = "missing_field"
    /// A JSON object that names a key twice (readers disagree on which value wins).
    public static let duplicateKey = "duplicate_key"
    public static let fieldNotText = "field_not_text"
    public static let emptyText = "empty_text"
    public static let lineTooLong = "line_too_long"
}

/// The text fields a step reads: strings, or arrays of strings (ticket comments).
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
