#if canImport(Glibc)
import Glibc
#endif

/// What a long-running test is doing right now, written to stderr if the process dies of a
/// trap (SIGILL: a Swift runtime check) or a bad memory access, so that a fuzz case that kills
/// the whole test process can still be named and reproduced.
///
/// Each context owns a fixed C buffer registered in a fixed table: the signal handler only
/// reads memory and calls write(2), the async-signal-safe part of the job. Tests running in
/// parallel each use their own context.
public final class CrashContext: @unchecked Sendable {
    private static let capacity = 512
    private static let slotCount = 16
    nonisolated(unsafe) fileprivate static let slots: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> = {
        let table = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: slotCount)
        table.initialize(repeating: nil, count: slotCount)
        return table
    }()
    nonisolated(unsafe) fileprivate static var previous: [Int32: sigaction] = [:]
    private static let installation: Void = install()

    private let buffer: UnsafeMutablePointer<CChar>
    private let slot: Int?

    public init() {
        _ = Self.installation
        buffer = .allocate(capacity: Self.capacity)
        buffer.initialize(repeating: 0, count: Self.capacity)
        // A slot for as long as the context lives (a few tests at a time).
        var found: Int?
        for i in 0..<Self.slotCount where Self.slots[i] == nil {
            Self.slots[i] = buffer
            found = i
            break
        }
        slot = found
    }

    deinit {
        if let slot { Self.slots[slot] = nil }
        buffer.deallocate()
    }

    /// Replaces the description of the work in progress.
    public func set(_ description: String) {
        // ">" + description + "\n" + NUL
        let bytes = Array(description.utf8.prefix(Self.capacity - 3))
        buffer[0] = 0
        for (i, b) in bytes.enumerated() { buffer[i + 1] = CChar(bitPattern: b) }
        buffer[bytes.count + 1] = 0x0A
        buffer[bytes.count + 2] = 0
        // Written last: a handler reading mid-update sees an empty description.
        buffer[0] = 0x3E  // ">"
    }

    private static func install() {
        for signal in [SIGILL, SIGSEGV, SIGBUS, SIGFPE] {
            var action = sigaction()
            action.__sigaction_handler.sa_sigaction = crashHandler
            action.sa_flags = SA_SIGINFO | SA_ONSTACK
            sigemptyset(&action.sa_mask)
            var old = sigaction()
            if sigaction(signal, &action, &old) == 0 { previous[signal] = old }
        }
    }
}

/// Prints every registered description, puts the previous handler back and returns: the
/// faulting instruction runs again and the previous handler (the Swift runtime's backtracer,
/// or the default action) deals with it as if this one had never been there.
private func crashHandler(_ signal: Int32, _ info: UnsafeMutablePointer<siginfo_t>?, _ context: UnsafeMutableRawPointer?) {
    let header: StaticString = "\nfatal signal while running:\n"
    _ = write(2, header.utf8Start, header.utf8CodeUnitCount)
    for i in 0..<16 {
        guard let buffer = CrashContext.slots[i] else { continue }
        _ = write(2, buffer, strlen(buffer))
    }
    if var old = CrashContext.previous[signal] {
        sigaction(signal, &old, nil)
    } else {
        var fallback = sigaction()
        fallback.__sigaction_handler.sa_handler = SIG_DFL
        sigaction(signal, &fallback, nil)
    }
}
