import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Stable names of input units. A unit (a file, or a byte range "path#start-end") is named by
/// a hash of that string, so its shards and markers keep their names when other inputs are
/// added or removed (a name from the unit's sorted position would shift).
enum UnitNames {
    /// 12 hex digits of the SHA-256 of the unit as the run lists it.
    static func id(_ unit: String) -> String {
        String(SHA256.hex(Array(unit.utf8)).prefix(12))
    }
}
