import CGlossaKernels
import Foundation

/// The CPUs this process may keep busy: the CPUs of its affinity mask (`taskset`, Slurm's CPU
/// binding, a container's cpuset) limited by the cgroup CPU quota (a Kubernetes CPU limit,
/// Docker's `--cpus`). A quota of 1.5 CPUs lets 2 threads run (ceil): a thread
/// that would exceed it is throttled, not refused.
///
/// The files are read defensively: content that cannot be parsed counts as no limit.
public struct CPUAllowance: Sendable, Equatable {
    /// CPUs in the affinity mask; nil when it could not be read.
    public var affinity: Int?
    /// ceil(quota / period) of the tightest cgroup CPU limit on this process; nil when none.
    public var quota: Int?
    /// CPUs online: what counts when the mask cannot be read.
    public var online: Int

    public init(affinity: Int?, quota: Int?, online: Int) {
        self.affinity = affinity
        self.quota = quota
        self.online = online
    }

    /// Threads that can run at once: the mask's CPUs (else the CPUs online), at most the
    /// quota, at least 1.
    public var count: Int { max(1, min(affinity ?? online, quota ?? Int.max)) }

    /// "affinity 2, cgroup quota none": where `count` comes from, for a log line.
    public var summary: String {
        "affinity \(affinity.map(String.init) ?? "unknown (\(online) online)"), cgroup quota \(quota.map(String.init) ?? "none")"
    }

    /// This process's allowance, read now.
    public static func current() -> CPUAllowance {
        let mask = Int(glossa_affinity_cpu_count())
        let online = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        return CPUAllowance(affinity: mask > 0 ? mask : nil,
                            quota: cgroupQuota(selfCgroup: readSmallFile("/proc/self/cgroup"), read: readSmallFile),
                            online: max(1, online))
    }

    // MARK: - cgroup files

    /// CPUs allowed by a cgroup v2 `cpu.max` ("QUOTA PERIOD", or "max PERIOD" for none).
    public static func quota(cpuMax: String) -> Int? {
        let fields = cpuMax.split(whereSeparator: \.isWhitespace)
        guard fields.count == 2, let quota = Int(fields[0]), let period = Int(fields[1]) else { return nil }
        return cpus(quota: quota, period: period)
    }

    /// CPUs allowed by cgroup v1's `cpu.cfs_quota_us` and `cpu.cfs_period_us` (quota -1: none).
    public static func quota(cfsQuota: String, cfsPeriod: String) -> Int? {
        guard let quota = Int(cfsQuota.trimmingCharacters(in: .whitespacesAndNewlines)),
              let period = Int(cfsPeriod.trimmingCharacters(in: .whitespacesAndNewlines)) else { return nil }
        return cpus(quota: quota, period: period)
    }

    /// ceil(quota / period) for a positive quota and period; nil otherwise (no limit, or
    /// nonsense). Cannot overflow: the result is at most `quota`.
    static func cpus(quota: Int, period: Int) -> Int? {
        guard quota > 0, period > 0 else { return nil }
        return quota / period + (quota % period == 0 ? 0 : 1)
    }

    /// The tightest CPU limit on the process's cgroup and its ancestors (a parent's limit
    /// holds for its children), v2 and v1. `selfCgroup` is `/proc/self/cgroup`; `read` returns
    /// a file's text or nil (tests pass a dictionary).
    static func cgroupQuota(selfCgroup: String?, read: (String) -> String?,
                            root: String = "/sys/fs/cgroup") -> Int? {
        var limits: [Int] = []
        var v2Path = "/"
        var v1Path: String?
        for line in (selfCgroup ?? "").split(separator: "\n") {
            // "0::/path" (v2) or "4:cpu,cpuacct:/path" (v1).
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            if parts[0] == "0" && parts[1].isEmpty {
                v2Path = String(parts[2])
            } else if parts[1].split(separator: ",").contains("cpu") {
                v1Path = String(parts[2])
            }
        }
        for directory in ancestors(v2Path) {
            if let text = read(root + directory + "cpu.max"), let limit = quota(cpuMax: text) { limits.append(limit) }
        }
        for mount in ["cpu,cpuacct", "cpu", "cpuacct,cpu"] {
            for directory in ancestors(v1Path ?? "/") {
                let base = root + "/" + mount + directory
                if let q = read(base + "cpu.cfs_quota_us"), let p = read(base + "cpu.cfs_period_us"),
                   let limit = quota(cfsQuota: q, cfsPeriod: p) { limits.append(limit) }
            }
        }
        return limits.min()
    }

    /// "/a/b" -> ["/a/b/", "/a/", "/"]; a path with ".." or more than 64 levels is just "/"
    /// (never read outside the cgroup tree).
    static func ancestors(_ path: String) -> [String] {
        let components = path.split(separator: "/").map(String.init)
        guard components.count <= 64, !components.contains(".."), !components.contains(".") else { return ["/"] }
        return (0...components.count).reversed().map { n in
            "/" + components.prefix(n).map { $0 + "/" }.joined()
        }
    }

    /// A small text file (cgroup and proc files are a few bytes); nil when unreadable or large.
    private static func readSmallFile(_ path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let data = try? handle.read(upToCount: 65_536) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}
