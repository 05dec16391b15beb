import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Files being written that must not outlive the process: removed when SIGTERM, SIGINT or
/// SIGHUP ends it (once `removeOnTerminationSignals()` is installed), and, after a SIGKILL,
/// by the next run that uses the same temporary folder (`removeStale(in:)`).
public enum TemporaryFiles {
    /// A fixed table of C strings, so the signal handler reads paths without allocating or
    /// locking. A slot's string is never freed while the process lives (few files per run
    /// register: the record tools' output, rejects and statistics).
    static let capacity = 256
    nonisolated(unsafe) static let table: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> = {
        let t = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: capacity)
        t.initialize(repeating: nil, count: capacity)
        return t
    }()
    private static let lock = NSLock()

    /// Registers a temporary file; the slot is given back to `unregister`. Nil when the table
    /// is full (the file is then only cleaned as stale by a later run).
    static func register(_ path: String) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        for slot in 0..<capacity where table[slot] == nil {
            table[slot] = strdup(path)
            return slot
        }
        return nil
    }

    static func unregister(_ slot: Int?) {
        guard let slot, slot >= 0, slot < capacity else { return }
        lock.lock()
        defer { lock.unlock() }
        // Not freed: a signal handler on another thread may be reading the string right now.
        table[slot] = nil
    }

    /// Installs handlers for SIGTERM, SIGINT and SIGHUP that unlink every registered file and
    /// then end the process with the same signal (its exit status shows the signal).
    public static func removeOnTerminationSignals() {
        _ = table
        for sig in [SIGTERM, SIGINT, SIGHUP] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = temporaryFilesSignalHandler
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0
            sigaction(sig, &action, nil)
        }
    }

    /// The suffix of a temporary file written by process `pid`.
    static func suffix(pid: Int32) -> String { ".tmp-\(pid)" }

    /// Removes files named `*.tmp-PID` in `directory` whose process no longer exists (left by a
    /// run killed with SIGKILL); files of live processes (a concurrent run) are kept. With
    /// `prefix`, only names starting with it are considered.
    public static func removeStale(in directory: String, prefix: String = "") {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for name in names where name.hasPrefix(prefix) {
            guard let range = name.range(of: ".tmp-", options: .backwards),
                  let pid = Int32(name[range.upperBound...]), pid > 0 else { continue }
            if pid == getpid() { continue }
            if kill(pid, 0) == 0 || errno == EPERM { continue }  // still running
            unlink(directory + "/" + name)
        }
    }
}

private func temporaryFilesSignalHandler(_ sig: Int32) {
    let table = TemporaryFiles.table
    for slot in 0..<TemporaryFiles.capacity {
        if let path = table[slot] { unlink(path) }
    }
    signal(sig, SIG_DFL)
    raise(sig)
}
