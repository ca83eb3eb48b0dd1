/// The handle of a line request that can outlive the process that made it: a file descriptor
/// for the kernel's line requests (a number the simulated chip hands out, for it).
public struct KeptRequest: Sendable, Equatable, CustomStringConvertible {
    public var fd: Int32

    public init(fd: Int32) { self.fd = fd }

    public var description: String { "fd \(fd)" }
}

/// Something outside plugd that holds a copy of a line request while plugd restarts, crashes or
/// is upgraded, so the line keeps its level: systemd's file-descriptor store
/// (`SystemdFDStore`), or `SimulatedLineKeeper` in tests.
public protocol LineKeeper: AnyObject {
    /// The request kept as `name` by the previous run, handed to this one; asked once.
    func takeBack(_ name: String) -> KeptRequest?
    /// Keeps a copy of `request` as `name`. Returns false when nothing can keep it (not started
    /// by systemd).
    @discardableResult func keep(_ request: KeptRequest, as name: String) -> Bool
    /// Drops the copy kept as `name`.
    func forget(_ name: String)
}

/// Why a kept request was not taken over: it is not a request for the configured line alone,
/// with its polarity, as an output (the config changed, or the kernel cannot tell).
public struct AdoptionRefused: Error, Equatable, CustomStringConvertible {
    public var reason: String

    public init(_ reason: String) { self.reason = reason }

    public var description: String { reason }
}

/// An output line taken over from a kept request, and the logical level it had.
public struct AdoptedOutput {
    public var line: any OutputLine
    public var level: Bool

    public init(line: any OutputLine, level: Bool) {
        self.line = line
        self.level = level
    }
}
