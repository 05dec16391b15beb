import Foundation
import Testing
@testable import GlossaEngine

/// The thread count: parsing, the CPUs a process may use (affinity, cgroup v2 and v1 quotas,
/// read defensively), ranks sharing a node, and the order of the settings.
@Suite struct ThreadSettingTests {
    @Test func threadCountsParse() {
        #expect(ThreadCount(parsing: "auto") == .auto)
        #expect(ThreadCount(parsing: "1") == .exactly(1) && ThreadCount(parsing: " 7 ") == .exactly(7))
        #expect(ThreadCount(parsing: "1024") == .exactly(1_024))
        for bad in ["0", "-1", "1025", "two", "", "2.5", "99999999999999999999999", "auto2"] {
            #expect(ThreadCount(parsing: bad) == nil, "\(bad)")
        }
    }

    @Test func cgroupV2Quota() {
        #expect(CPUAllowance.quota(cpuMax: "max 100000\n") == nil)
        #expect(CPUAllowance.quota(cpuMax: "100000 100000\n") == 1)
        #expect(CPUAllowance.quota(cpuMax: "150000 100000") == 2)
        #expect(CPUAllowance.quota(cpuMax: "400000 100000") == 4)
        #expect(CPUAllowance.quota(cpuMax: "1 100000") == 1)
        for bad in ["", "garbage", "100000", "-5 100000", "100000 0", "100000 -1", "99999999999999999999999 100000", "1 2 3", "max max"] {
            #expect(CPUAllowance.quota(cpuMax: bad) == nil, "\(bad)")
        }
    }

    @Test func cgroupV1Quota() {
        #expect(CPUAllowance.quota(cfsQuota: "-1\n", cfsPeriod: "100000\n") == nil)
        #expect(CPUAllowance.quota(cfsQuota: "250000\n", cfsPeriod: "100000\n") == 3)
        #expect(CPUAllowance.quota(cfsQuota: "x", cfsPeriod: "100000") == nil)
        #expect(CPUAllowance.quota(cfsQuota: "50000", cfsPeriod: "") == nil)
    }

    /// The tightest limit of the process's cgroup and its ancestors counts, in v2 and v1.
    @Test func cgroupFilesOfTheProcessAndItsAncestors() {
        let v2 = ["/sys/fs/cgroup/cpu.max": "max 100000", "/sys/fs/cgroup/kubepods/cpu.max": "800000 100000",
                  "/sys/fs/cgroup/kubepods/pod1/cpu.max": "max 100000", "/sys/fs/cgroup/kubepods/pod1/c/cpu.max": "300000 100000"]
        #expect(CPUAllowance.cgroupQuota(selfCgroup: "0::/kubepods/pod1/c\n", read: { v2[$0] }) == 3)
        #expect(CPUAllowance.cgroupQuota(selfCgroup: "0::/kubepods/pod1\n", read: { v2[$0] }) == 8)
        // A namespaced cgroup sees itself as the root.
        #expect(CPUAllowance.cgroupQuota(selfCgroup: "0::/\n", read: { ["/sys/fs/cgroup/cpu.max": "250000 100000\n"][$0] }) == 3)
        #expect(CPUAllowance.cgroupQuota(selfCgroup: nil, read: { v2[$0] }) == nil)
        // Never outside the tree: a path with '..' is read as the root.
        #expect(CPUAllowance.cgroupQuota(selfCgroup: "0::/../../etc\n", read: { $0 == "/sys/fs/cgroup/cpu.max" ? "200000 100000" : "100000 100000" }) == 2)
        let v1 = ["/sys/fs/cgroup/cpu,cpuacct/slurm/job1/cpu.cfs_quota_us": "200000", "/sys/fs/cgroup/cpu,cpuacct/slurm/job1/cpu.cfs_period_us": "100000",
                  "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us": "-1", "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us": "100000"]
        #expect(CPUAllowance.cgroupQuota(selfCgroup: "12:memory:/slurm/job1\n4:cpu,cpuacct:/slurm/job1\n0::/\n", read: { v1[$0] }) == 2)
        #expect(CPUAllowance.cgroupQuota(selfCgroup: "garbage\n\n::\n", read: { _ in "junk" }) == nil)
        #expect(CPUAllowance.ancestors("/a/b") == ["/a/b/", "/a/", "/"])
    }

    @Test func theAllowanceIsTheMaskLimitedByTheQuota() {
        #expect(CPUAllowance(affinity: 8, quota: 3, online: 16).count == 3)
        #expect(CPUAllowance(affinity: 2, quota: nil, online: 16).count == 2)
        #expect(CPUAllowance(affinity: nil, quota: nil, online: 4).count == 4)
        #expect(CPUAllowance(affinity: 4, quota: 64, online: 64).count == 4)
        let here = CPUAllowance.current()
        #expect(here.count >= 1 && here.count <= here.online)
        #expect(here.affinity != nil, "sched_getaffinity should be readable on Linux")
        #expect(CPUAllowance(affinity: 2, quota: nil, online: 2).summary == "affinity 2, cgroup quota none")
    }

    /// auto shares the node between its ranks, floor(cpus / ranks), never below 1.
    @Test func autoDividesTheCPUsBetweenTheRanksOnTheNode() {
        func auto(_ cpus: Int, _ ranks: Int) -> Int {
            ThreadCount.auto.resolved(allowance: CPUAllowance(affinity: cpus, quota: nil, online: cpus), localRanks: ranks)
        }
        #expect(auto(32, 1) == 32 && auto(32, 2) == 16 && auto(32, 3) == 10 && auto(32, 4) == 8)
        #expect(auto(2, 2) == 1 && auto(3, 2) == 1 && auto(7, 3) == 2 && auto(1, 4) == 1 && auto(2, 64) == 1)
        #expect(auto(8, 0) == 8 && auto(8, -3) == 8)
        let limited = CPUAllowance(affinity: 32, quota: 6, online: 32)
        #expect(ThreadCount.auto.resolved(allowance: limited, localRanks: 2) == 3)
        // An explicit count is taken as given, ranks or not.
        #expect(ThreadCount.exactly(5).resolved(allowance: limited, localRanks: 4) == 5)
    }

    /// --threads, then GLOSSA_THREADS, then engine.threads, then auto.
    @Test func settingsComeInOrder() throws {
        let cpus = CPUAllowance(affinity: 8, quota: nil, online: 8)
        func choose(_ cli: ThreadCount?, _ env: String?, _ yaml: ThreadCount?, ranks: Int = 1) throws -> ThreadChoice {
            try ThreadChoice.resolve(commandLine: cli, environment: env.map { ["GLOSSA_THREADS": $0] } ?? [:], pipeline: yaml,
                                     localRanks: ranks, allowance: cpus)
        }
        #expect(try choose(.exactly(3), "5", .exactly(6)).count == 3)
        #expect(try choose(nil, "5", .exactly(6)) == ThreadChoice(count: 5, source: "GLOSSA_THREADS", allowance: cpus, localRanks: 1))
        #expect(try choose(nil, nil, .exactly(6)).source == "engine.threads")
        #expect(try choose(nil, "", .exactly(6)).count == 6)
        #expect(try choose(nil, nil, nil) == ThreadChoice(count: 8, source: "auto", allowance: cpus, localRanks: 1))
        #expect(try choose(nil, nil, nil, ranks: 2).count == 4)
        #expect(try choose(nil, "auto", .exactly(6), ranks: 2).count == 4)
        #expect(try choose(nil, nil, nil, ranks: 2).summary == "4 threads (auto; affinity 8, cgroup quota none, shared by 2 ranks on this node)")
        #expect(try choose(.exactly(1), nil, nil).summary == "1 thread (--threads; affinity 8, cgroup quota none)")
        #expect(throws: EngineError.invalidSetting("GLOSSA_THREADS is 'lots'; it must be auto or an integer from 1 to 1024")) {
            try choose(nil, "lots", nil)
        }
        #expect(throws: EngineError.self) { try choose(nil, "0", nil) }
    }

    /// The process's pool is sized before the first model runs; afterwards only the same
    /// count is accepted, and impossible counts never are.
    @Test func theProcessThreadsAreFixedOnceAModelRuns() throws {
        #expect(throws: EngineError.self) { try Engine.setThreads(0) }
        #expect(throws: EngineError.self) { try Engine.setThreads(ThreadCount.most + 1) }
        let model = try Transformer(directory: Fixtures.tiny.appendingPathComponent("qwen3").path)
        #expect(model.threads == Engine.threads)
        try Engine.setThreads(Engine.threads)
        #expect(throws: EngineError.self) { try Engine.setThreads(Engine.threads + 1) }
        #expect(model.threads == Engine.threads)
        // A model with a count of its own gets a pool of that size, without touching the process's.
        let own = try Transformer(directory: Fixtures.tiny.appendingPathComponent("qwen3").path, options: EngineOptions(threads: 3))
        #expect(own.threads == 3 && Engine.threads == model.threads)
    }
}
