import Foundation
import Yams

/// Walks YAML nodes, reporting the line of anything wrong.
struct ConfigReader {
    let file: String

    func error(_ node: Node, _ message: String) -> PipelineConfig.ConfigError {
        PipelineConfig.ConfigError(file: file, line: node.mark?.line ?? 1, message: message)
    }

    func mapping(_ node: Node, _ what: String, allowed: Set<String>?) throws -> [String: Node] {
        guard case let .mapping(m) = node else { throw error(node, "\(what) must be a mapping of keys") }
        var out: [String: Node] = [:]
        for (k, v) in m {
            guard let key = k.string else { throw error(k, "keys of \(what) must be strings") }
            if let allowed, !allowed.contains(key) {
                throw error(k, "unknown key '\(key)' in \(what) (expected \(allowed.sorted().joined(separator: ", ")))")
            }
            out[key] = v
        }
        return out
    }

    func required(_ map: [String: Node], _ key: String, _ parent: Node) throws -> Node {
        guard let v = map[key] else { throw error(parent, "missing key '\(key)'") }
        return v
    }

    func string(_ node: Node, _ what: String) throws -> String {
        guard case .scalar = node, let s = node.string else { throw error(node, "\(what) must be a string") }
        return s
    }

    func int(_ node: Node, _ what: String, min: Int) throws -> Int {
        guard let i = node.int, i >= min else { throw error(node, "\(what) must be an integer >= \(min)") }
        return i
    }

    /// Names of record fields: a non-empty list of non-empty names.
    func fieldNames(_ node: Node, _ what: String) throws -> [String] {
        let names = try strings(node, what)
        guard !names.isEmpty else { throw error(node, "\(what) is empty; name at least one field to read") }
        guard !names.contains("") else { throw error(node, "\(what) has an empty field name") }
        return names
    }

    /// A YAML value as JSON: mappings keep their order; plain scalars are null, booleans
    /// or numbers when YAML reads them so, quoted ones are strings.
    func json(_ node: Node, _ what: String) throws -> JSONValue {
        switch node {
        case let .scalar(scalar):
            guard scalar.style == .plain else { return .string(scalar.string) }
            if node.null != nil { return .null }
            if let b = node.bool { return .bool(b) }
            if node.int != nil || node.float != nil, let number = try? JSONParser.parse(scalar.string).value, case .number = number {
                return number
            }
            if let i = node.int { return .number(String(i)) }
            return .string(scalar.string)
        case let .mapping(mapping):
            var object = JSONObject()
            for (k, v) in mapping {
                guard let key = k.string else { throw error(k, "keys of \(what) must be strings") }
                object[key] = try json(v, what + "." + key)
            }
            return .object(object)
        case let .sequence(items):
            return .array(try items.map { try json($0, what) })
        case .alias:
            throw error(node, "\(what): YAML aliases are not supported here")
        }
    }

    func strings(_ node: Node, _ what: String) throws -> [String] {
        switch node {
        case .scalar: return [try string(node, what)]
        case let .sequence(items): return try items.map { try string($0, what) }
        default: throw error(node, "\(what) must be a string or a list of strings")
        }
    }
}
