import Foundation

/// How units are shared between the ranks of a run (Slurm array tasks, Kubernetes indexed
/// jobs, `glossa run --rank`): by a hash of the unit, so the split needs no coordination.
public enum Ranks {
    /// Stable assignment of units to ranks: the same unit always lands on the same rank.
    public static func rank(of unit: String, worldSize: Int) -> Int {
        var h: UInt64 = 14_695_981_039_346_656_037
        for b in unit.utf8 { h = (h ^ UInt64(b)) &* 1_099_511_628_211 }
        return Int(h % UInt64(worldSize))
    }

    /// Sorted task ids as a Slurm array range: [0, 1, 2, 3, 7] -> "0-3,7".
    public static func arrayRanges(_ ids: [Int]) -> String {
        var parts: [String] = []
        var i = 0
        while i < ids.count {
            var j = i
            while j + 1 < ids.count && ids[j + 1] == ids[j] + 1 { j += 1 }
            parts.append(j == i ? String(ids[i]) : "\(ids[i])-\(ids[j])")
            i = j + 1
        }
        return parts.joined(separator: ",")
    }
}
