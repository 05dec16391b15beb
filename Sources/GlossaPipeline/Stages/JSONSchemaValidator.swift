import Foundation

/// Checks a JSON value against a schema with the keywords the engine's constraint compiler
/// supports, written separately from it (patterns go through Foundation's ICU regular
/// expressions, lengths count Unicode scalars, numbers compare by value), so that a constrained
/// answer is verified by a second implementation rather than by the one that produced it.
/// `oneOf` is checked as `anyOf`, as it is generated.
struct JSONSchemaValidator {
    let root: JSONValue

    /// Problems found, each with its JSON path; empty when the value is valid.
    func validate(_ value: JSONValue) -> [String] {
        var problems: [String] = []
        check(value, root, at: "$", &problems, depth: 0)
        return problems
    }

    private func check(_ value: JSONValue, _ schema: JSONValue, at path: String, _ problems: inout [String], depth: Int) {
        guard depth < 256 else { problems.append("\(path): schema nesting too deep"); return }
        switch schema {
        case .bool(true): return
        case .bool(false): problems.append("\(path): no value is allowed"); return
        case .object: break
        default: problems.append("\(path): the schema is not an object"); return
        }
        guard case let .object(s) = schema else { return }
        if case let .string(ref)? = s["$ref"] {
            guard let target = resolve(ref) else { problems.append("\(path): unresolved $ref \(ref)"); return }
            check(value, target, at: path, &problems, depth: depth + 1)
            return
        }
        if let c = s["const"], !Self.equal(c, value) { problems.append("\(path): not the constant \(Self.text(c))") }
        if case let .array(options)? = s["enum"], !options.contains(where: { Self.equal($0, value) }) {
            problems.append("\(path): \(Self.text(value)) is not one of the enum values")
        }
        for key in ["anyOf", "oneOf", "allOf"] {
            guard case let .array(options)? = s[key] else { continue }
            let passing = options.filter { option in
                var sub: [String] = []
                check(value, option, at: path, &sub, depth: depth + 1)
                return sub.isEmpty
            }.count
            if key == "allOf" ? passing != options.count : passing == 0 { problems.append("\(path): fails \(key)") }
        }
        var types: [String] = []
        switch s["type"] {
        case let .string(t)?: types = [t]
        case let .array(list)?: types = list.compactMap(\.stringValue)
        default: break
        }
        if !types.isEmpty && !types.contains(where: { Self.isType(value, $0) }) {
            problems.append("\(path): \(Self.text(value)) is not of type \(types.joined(separator: " or "))")
            return
        }
        switch value {
        case let .string(text):
            let length = text.unicodeScalars.count
            if let min = Self.int(s["minLength"]), length < min { problems.append("\(path): shorter than \(min) characters") }
            if let max = Self.int(s["maxLength"]), length > max { problems.append("\(path): longer than \(max) characters") }
            if case let .string(pattern)? = s["pattern"] {
                // Generation produces a whole-string match; check exactly that.
                if let regex = try? NSRegularExpression(pattern: "^(?:" + Self.stripAnchors(pattern) + ")$") {
                    let range = NSRange(text.startIndex..., in: text)
                    if regex.firstMatch(in: text, range: range) == nil { problems.append("\(path): does not match /\(pattern)/") }
                } else {
                    problems.append("\(path): the pattern /\(pattern)/ does not compile")
                }
            }
        case let .array(items):
            if let min = Self.int(s["minItems"]), items.count < min { problems.append("\(path): fewer than \(min) items") }
            if let max = Self.int(s["maxItems"]), items.count > max { problems.append("\(path): more than \(max) items") }
            if let itemSchema = s["items"] {
                for (k, item) in items.enumerated() { check(item, itemSchema, at: "\(path)[\(k)]", &problems, depth: depth + 1) }
            }
        case let .object(object):
            let properties = s["properties"]?.objectValue ?? JSONObject()
            if case let .array(required)? = s["required"] {
                for name in required.compactMap(\.stringValue) where object[name] == nil { problems.append("\(path): missing '\(name)'") }
            }
            for member in object.members {
                if let p = properties[member.key] {
                    check(member.value, p, at: "\(path).\(member.key)", &problems, depth: depth + 1)
                } else if case .bool(false)? = s["additionalProperties"] {
                    problems.append("\(path): unexpected property '\(member.key)'")
                }
            }
        default: break
        }
    }

    private static func stripAnchors(_ pattern: String) -> String {
        var p = Substring(pattern)
        if p.hasPrefix("^") { p = p.dropFirst() }
        if p.hasSuffix("$") && !p.hasSuffix("\\$") { p = p.dropLast() }
        return String(p)
    }

    private func resolve(_ ref: String) -> JSONValue? {
        if ref == "#" { return root }
        let parts = ref.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "#" else { return nil }
        return root.objectValue?[String(parts[1])]?.objectValue?[String(parts[2])]
    }

    static func isType(_ value: JSONValue, _ type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object): return true
        case let ("number", .number(text)): return Double(text)?.isFinite == true
        case let ("integer", .number(text)): return !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) && Int(text) != nil
        default: return false
        }
    }

    static func equal(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case let (.number(x), .number(y)): return x == y || (Double(x) != nil && Double(x) == Double(y))
        case let (.array(x), .array(y)): return x.count == y.count && zip(x, y).allSatisfy { equal($0, $1) }
        case let (.object(x), .object(y)):
            return x.members.count == y.members.count && x.members.allSatisfy { m in y[m.key].map { equal(m.value, $0) } ?? false }
        default: return a == b
        }
    }

    static func int(_ value: JSONValue?) -> Int? {
        guard case let .number(text)? = value else { return nil }
        return Int(text) ?? Double(text).flatMap { $0 == $0.rounded() && abs($0) < 1e15 ? Int($0) : nil }
    }

    static func text(_ value: JSONValue) -> String {
        var bytes: [UInt8] = []
        JSONWriter.write(value, into: &bytes)
        return String(decoding: bytes.prefix(80), as: UTF8.self)
    }
}
