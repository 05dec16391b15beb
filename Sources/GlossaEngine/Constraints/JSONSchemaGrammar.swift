import GlossaIO

/// JSON Schema to grammar. Supported: `type` (one or a list), `properties` (written in the
/// schema's order), `required`, `additionalProperties` (true / false: extra properties are
/// never generated), `enum`, `const`, strings (`minLength`, `maxLength`, `pattern` — matched
/// against the whole string content, as Outlines and llama.cpp do), `integer`, `number`,
/// `boolean`, `null`, arrays (`items`, `minItems`, `maxItems`), `anyOf` (and `oneOf`, generated
/// as `anyOf`), `allOf` with one member, `$ref` to `#`, `#/$defs/...` or `#/definitions/...`
/// (recursive schemas work). Annotations (`title`, `description`, `default`, `examples`,
/// `$schema`, `$id`, `$comment`) are ignored; any other keyword is an error naming it.
///
/// Whitespace: none is required; after `{`, `[`, `,` and `:` and before `}` and `]` the model may
/// write one space, or a line break and up to 16 spaces (enough for pretty-printed JSON of
/// modest depth, never an endless run). Numbers: at most 18 integer digits, 15 fraction digits
/// and 3 exponent digits, so a greedy model cannot loop on digits.
public enum JSONSchemaGrammar {
    /// Keywords that change nothing about what is valid (`$defs` and `definitions` hold the
    /// targets of `$ref`).
    static let annotations: Set<String> = ["title", "description", "default", "examples", "$schema", "$id", "$comment",
                                           "$defs", "definitions"]

    public static func compile(_ schema: JSONValue) throws(ConstraintError) -> Grammar {
        var compiler = Compiler(document: schema)
        let root = compiler.grammar.declare("root")
        compiler.refs["#"] = root
        compiler.grammar.define(root, try compiler.value(schema, at: "#"))
        compiler.grammar.root = root
        return compiler.grammar
    }

    /// Any JSON value (or any object): the `json_object` response format.
    public static func anyJSON(objectOnly: Bool) -> Grammar {
        var compiler = Compiler(document: .null)
        let rule = objectOnly ? compiler.anyObject() : compiler.anyValue()
        compiler.grammar.root = rule
        return compiler.grammar
    }

    // MARK: - Pieces

    static let ws = Grammar.Expression.optional(.choice([
        .literal(" "), .sequence([.literal("\n"), .repetition(.literal(" "), min: 0, max: 16)]),
    ]))
    static let digit = Grammar.Expression.scalars(ScalarSet([0x30...0x39]))
    static let hexDigit = Grammar.Expression.scalars(ScalarSet([0x30...0x39, 0x41...0x46, 0x61...0x66]))

    /// One character of a JSON string: anything but `"`, `\` and controls, or an escape.
    static let stringCharacter = Grammar.Expression.choice([
        .scalars(ScalarSet.all.subtracting(ScalarSet([0x00...0x1F, 0x22...0x22, 0x5C...0x5C]))),
        .sequence([.literal("\\"), .choice([.scalars(ScalarSet([0x22...0x22, 0x5C...0x5C, 0x2F...0x2F, 0x62...0x62, 0x66...0x66,
                                                                   0x6E...0x6E, 0x72...0x72, 0x74...0x74])),
                                            .sequence([.literal("u"), .repetition(hexDigit, min: 4, max: 4)])])]),
    ])
    static let integer = Grammar.Expression.sequence([
        .optional(.literal("-")),
        .choice([.literal("0"), .sequence([.scalars(ScalarSet([0x31...0x39])), .repetition(digit, min: 0, max: 17)])]),
    ])
    static let number = Grammar.Expression.sequence([
        integer,
        .optional(.sequence([.literal("."), .repetition(digit, min: 1, max: 15)])),
        .optional(.sequence([.scalars(ScalarSet([0x45...0x45, 0x65...0x65])), .optional(.scalars(ScalarSet([0x2B...0x2B, 0x2D...0x2D]))),
                             .repetition(digit, min: 1, max: 3)])),
    ])

    /// A pattern's text inside a JSON string: characters that JSON must escape are produced in
    /// their escaped form, so the output stays valid JSON and still matches the pattern.
    static func escapedForJSON(_ e: Grammar.Expression) -> Grammar.Expression {
        switch e {
        case let .bytes(bytes):
            guard let text = String(validating: bytes, as: UTF8.self) else { return e }
            var out: [UInt8] = []
            JSONWriter.write(.string(text), into: &out)
            return .bytes(Array(out.dropFirst().dropLast()))
        case let .scalars(set):
            let special = ScalarSet([0x00...0x1F, 0x22...0x22, 0x5C...0x5C])
            var branches: [Grammar.Expression] = [.scalars(set.subtracting(special))]
            for r in set.subtracting(set.subtracting(special)).ranges {
                for v in r {
                    guard let scalar = Unicode.Scalar(v) else { continue }
                    branches.append(escapedForJSON(.bytes(Array(String(scalar).utf8))))
                }
            }
            return branches.count == 1 ? branches[0] : .choice(branches)
        case .rule: return e
        case let .sequence(items): return .sequence(items.map(escapedForJSON))
        case let .choice(items): return .choice(items.map(escapedForJSON))
        case let .repetition(item, lo, hi): return .repetition(escapedForJSON(item), min: lo, max: hi)
        }
    }

    struct Compiler {
        let document: JSONValue
        var grammar = Grammar()
        var refs: [String: Int] = [:]
        var anyValueRule: Int?
        var anyObjectRule: Int?

        init(document: JSONValue) { self.document = document }

        func error(_ path: String, _ message: String) -> ConstraintError {
            ConstraintError("JSON Schema at \(path): \(message)")
        }

        mutating func value(_ schema: JSONValue, at path: String) throws(ConstraintError) -> Grammar.Expression {
            switch schema {
            case .bool(true): return .rule(anyValue())
            case .bool(false): throw error(path, "the schema `false` accepts nothing")
            case .object: break
            default: throw error(path, "a schema must be an object or a boolean")
            }
            guard case let .object(object) = schema else { return .empty }
            let known: Set<String> = ["type", "properties", "required", "additionalProperties", "enum", "const", "minLength",
                                      "maxLength", "pattern", "items", "minItems", "maxItems", "anyOf", "oneOf", "allOf", "$ref"]
            for member in object.members where !known.contains(member.key) && !JSONSchemaGrammar.annotations.contains(member.key) {
                throw error(path, "the keyword '\(member.key)' is not supported")
            }
            if let ref = object["$ref"] {
                guard object.members.allSatisfy({ $0.key == "$ref" || JSONSchemaGrammar.annotations.contains($0.key) }) else {
                    throw error(path, "'$ref' beside other keywords is not supported")
                }
                guard case let .string(target) = ref else { throw error(path, "'$ref' must be a string") }
                return .rule(try reference(target, from: path))
            }
            if let c = object["const"] { return literal(c) }
            if let e = object["enum"] {
                guard case let .array(values) = e, !values.isEmpty else { throw error(path, "'enum' must be a non-empty array") }
                return .choice(values.map(literal))
            }
            for key in ["anyOf", "oneOf", "allOf"] {
                guard let list = object[key] else { continue }
                guard case let .array(options) = list, !options.isEmpty else { throw error(path, "'\(key)' must be a non-empty array") }
                if key == "allOf" && options.count != 1 { throw error(path, "'allOf' with more than one schema is not supported") }
                var branches: [Grammar.Expression] = []
                for (k, option) in options.enumerated() { branches.append(try value(option, at: "\(path)/\(key)/\(k)")) }
                return branches.count == 1 ? branches[0] : .choice(branches)
            }
            let types: [String]
            switch object["type"] {
            case nil: types = inferredTypes(object)
            case let .string(t)?: types = [t]
            case let .array(list)?:
                types = list.compactMap(\.stringValue)
                guard types.count == list.count, !types.isEmpty else { throw error(path, "'type' must be a string or a list of strings") }
            default: throw error(path, "'type' must be a string or a list of strings")
            }
            var branches: [Grammar.Expression] = []
            for t in types { branches.append(try typed(t, object, at: path)) }
            return branches.count == 1 ? branches[0] : .choice(branches)
        }

        /// Without `type`: what the keywords present imply, or any value.
        func inferredTypes(_ object: JSONObject) -> [String] {
            if object["properties"] != nil || object["required"] != nil || object["additionalProperties"] != nil { return ["object"] }
            if object["items"] != nil || object["minItems"] != nil || object["maxItems"] != nil { return ["array"] }
            if object["minLength"] != nil || object["maxLength"] != nil || object["pattern"] != nil { return ["string"] }
            return ["any"]
        }

        mutating func typed(_ type: String, _ object: JSONObject, at path: String) throws(ConstraintError) -> Grammar.Expression {
            switch type {
            case "any": return .rule(anyValue())
            case "null": return .literal("null")
            case "boolean": return .choice([.literal("true"), .literal("false")])
            case "integer": return JSONSchemaGrammar.integer
            case "number": return JSONSchemaGrammar.number
            case "string": return try string(object, at: path)
            case "array": return try array(object, at: path)
            case "object": return try self.object(object, at: path)
            default: throw error(path, "unknown type '\(type)'")
            }
        }

        func count(_ object: JSONObject, _ key: String, at path: String) throws(ConstraintError) -> Int? {
            guard let v = object[key] else { return nil }
            guard case let .number(text) = v, let n = Int(text) ?? Double(text).flatMap({ $0 == $0.rounded() && $0 >= 0 && $0 < 1e6 ? Int($0) : nil }), n >= 0 else {
                throw error(path, "'\(key)' must be a non-negative integer")
            }
            guard n <= 10_000 else { throw error(path, "'\(key)' = \(n) is more than the 10000 supported") }
            return n
        }

        mutating func string(_ object: JSONObject, at path: String) throws(ConstraintError) -> Grammar.Expression {
            let quote = Grammar.Expression.literal("\"")
            if let p = object["pattern"] {
                guard case let .string(pattern) = p else { throw error(path, "'pattern' must be a string") }
                if object["minLength"] != nil || object["maxLength"] != nil {
                    throw error(path, "'pattern' together with 'minLength' or 'maxLength' is not supported")
                }
                let body = try RegexParser.parse(pattern)
                return .sequence([quote, JSONSchemaGrammar.escapedForJSON(body), quote])
            }
            let lo = try count(object, "minLength", at: path) ?? 0
            let hi = try count(object, "maxLength", at: path)
            if let hi, hi < lo { throw error(path, "'maxLength' is less than 'minLength'") }
            return .sequence([quote, .repetition(JSONSchemaGrammar.stringCharacter, min: lo, max: hi), quote])
        }

        mutating func array(_ object: JSONObject, at path: String) throws(ConstraintError) -> Grammar.Expression {
            let item: Grammar.Expression = try object["items"].map { schema throws(ConstraintError) in try value(schema, at: path + "/items") }
                ?? .rule(anyValue())
            let lo = try count(object, "minItems", at: path) ?? 0
            let hi = try count(object, "maxItems", at: path)
            if let hi, hi < lo { throw error(path, "'maxItems' is less than 'minItems'") }
            let ws = JSONSchemaGrammar.ws
            let more = Grammar.Expression.sequence([.literal(","), ws, item])
            let items: Grammar.Expression
            if hi == 0 {
                items = .empty
            } else {
                let list = Grammar.Expression.sequence([item, .repetition(more, min: max(lo - 1, 0), max: hi.map { $0 - 1 })])
                items = lo == 0 ? .optional(list) : list
            }
            return .sequence([.literal("["), ws, items, ws, .literal("]")])
        }

        mutating func object(_ object: JSONObject, at path: String) throws(ConstraintError) -> Grammar.Expression {
            switch object["additionalProperties"] {
            case nil, .bool?: break
            default: throw error(path, "'additionalProperties' as a schema is not supported (use true or false)")
            }
            guard let p = object["properties"] else {
                if case .bool(false)? = object["additionalProperties"] { return .sequence([.literal("{"), JSONSchemaGrammar.ws, .literal("}")]) }
                return .rule(anyObject())
            }
            guard case let .object(properties) = p else { throw error(path, "'properties' must be an object") }
            var required = Set<String>()
            if let r = object["required"] {
                guard case let .array(names) = r, names.allSatisfy({ $0.stringValue != nil }) else { throw error(path, "'required' must be a list of names") }
                required = Set(names.compactMap(\.stringValue))
                for name in required where properties[name] == nil {
                    throw error(path, "required property '\(name)' is not in 'properties'")
                }
            }
            let ws = JSONSchemaGrammar.ws
            var pairs: [Grammar.Expression] = []
            for member in properties.members {
                var key: [UInt8] = []
                JSONWriter.write(.string(member.key), into: &key)
                pairs.append(.sequence([.bytes(key), ws, .literal(":"), ws, try value(member.value, at: "\(path)/properties/\(member.key)")]))
            }
            // The properties in order, optional ones skippable, commas only between those
            // present: one rule per (position, whether a comma is due) keeps this linear.
            let n = pairs.count
            let tails: [[Int]] = (0...n).map { k in [grammar.declare("\(path)#\(k)"), grammar.declare("\(path)#\(k),")] }
            for k in stride(from: n, through: 0, by: -1) {
                for comma in 0...1 {
                    if k == n { grammar.define(tails[k][comma], .empty); continue }
                    let lead: Grammar.Expression = comma == 1 ? .sequence([.literal(","), ws]) : .empty
                    let include = Grammar.Expression.sequence([lead, pairs[k], .rule(tails[k + 1][1])])
                    let name = properties.members[k].key
                    grammar.define(tails[k][comma], required.contains(name) ? include : .choice([include, .rule(tails[k + 1][comma])]))
                }
            }
            return .sequence([.literal("{"), ws, .rule(tails[0][0]), ws, .literal("}")])
        }

        func literal(_ value: JSONValue) -> Grammar.Expression {
            var out: [UInt8] = []
            JSONWriter.write(value, into: &out)
            return .bytes(out)
        }

        mutating func reference(_ target: String, from path: String) throws(ConstraintError) -> Int {
            if let r = refs[target] { return r }
            let parts = target.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 3, parts[0] == "#", parts[1] == "$defs" || parts[1] == "definitions" else {
                throw error(path, "'$ref' to '\(target)' is not supported (use #, #/$defs/NAME or #/definitions/NAME)")
            }
            let name = String(parts[2]).replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            guard case let .object(root) = document, case let .object(defs)? = root[String(parts[1])], let schema = defs[name] else {
                throw error(path, "'$ref' to '\(target)' names no definition")
            }
            let r = grammar.declare(target)
            refs[target] = r
            grammar.define(r, try value(schema, at: target))
            return r
        }

        // MARK: Any JSON

        mutating func anyValue() -> Int {
            if let r = anyValueRule { return r }
            let value = grammar.declare("value")
            anyValueRule = value
            let ws = JSONSchemaGrammar.ws
            let string = Grammar.Expression.sequence([.literal("\""), .repetition(JSONSchemaGrammar.stringCharacter, min: 0, max: nil), .literal("\"")])
            let array = Grammar.Expression.sequence([
                .literal("["), ws,
                .optional(.sequence([.rule(value), .repetition(.sequence([ws, .literal(","), ws, .rule(value)]), min: 0, max: nil)])),
                ws, .literal("]"),
            ])
            grammar.define(value, .choice([.rule(anyObject()), array, string, JSONSchemaGrammar.number,
                                           .literal("true"), .literal("false"), .literal("null")]))
            return value
        }

        mutating func anyObject() -> Int {
            if let r = anyObjectRule { return r }
            let object = grammar.declare("object")
            anyObjectRule = object
            let value = anyValue()
            let ws = JSONSchemaGrammar.ws
            let key = Grammar.Expression.sequence([.literal("\""), .repetition(JSONSchemaGrammar.stringCharacter, min: 0, max: nil), .literal("\"")])
            let pair = Grammar.Expression.sequence([key, ws, .literal(":"), ws, .rule(value)])
            grammar.define(object, .sequence([
                .literal("{"), ws,
                .optional(.sequence([pair, .repetition(.sequence([ws, .literal(","), ws, pair]), min: 0, max: nil)])),
                ws, .literal("}"),
            ]))
            return object
        }
    }
}
