import GlossaIO

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
