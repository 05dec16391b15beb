import GlossaEngine
import GlossaIO
import Synchronization

/// Compiled constraints by their definition, least recently used dropped first. A constraint's
/// automaton and token masks fill as requests use it, so reusing the object is what makes a
/// schema sent with every request cheap after the first.
final class ConstraintCache: Sendable {
    private struct Entries {
        var byKey: [String: Constraint] = [:]
        var order: [String] = []
    }

    private let entries = Mutex(Entries())
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    func compile(_ kind: Constraint.Kind) throws(ConstraintError) -> Constraint {
        let key = Self.key(kind)
        if let hit = entries.withLock({ e -> Constraint? in
            guard let c = e.byKey[key] else { return nil }
            e.order.removeAll { $0 == key }
            e.order.append(key)
            return c
        }) {
            return hit
        }
        // Compiled outside the lock: a large schema does not hold up other requests.
        let constraint = try Constraint(kind)
        entries.withLock { e in
            e.byKey[key] = constraint
            e.order.removeAll { $0 == key }
            e.order.append(key)
            while e.order.count > capacity { e.byKey[e.order.removeFirst()] = nil }
        }
        return constraint
    }

    static func key(_ kind: Constraint.Kind) -> String {
        var bytes: [UInt8] = []
        switch kind {
        case let .choice(options): JSONWriter.write(.array(options.map { .string($0) }), into: &bytes); return "choice " + String(decoding: bytes, as: UTF8.self)
        case let .regex(pattern): return "regex " + pattern
        case let .grammar(text): return "grammar " + text
        case let .jsonSchema(schema): JSONWriter.write(schema, into: &bytes); return "schema " + String(decoding: bytes, as: UTF8.self)
        case .json: return "json"
        case .jsonObject: return "json_object"
        case let .requiredText(needles):
            return "required " + needles.map { "\($0.minimum),\($0.maximum ?? -1),\($0.commitAfter ?? -1),\($0.text.utf8.count):\($0.text)" }.joined(separator: ";")
        }
    }
}
