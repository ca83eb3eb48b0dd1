#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PlugCore
import PlugJSON

/// The plug's state directory (`/var/lib/plugd`): one state file written atomically, a
/// reset-pending marker that makes a factory reset complete even across a power cut, and corrupt
/// files set aside for inspection instead of crashing the daemon.
///
/// Every write is temp file → fsync → rename → fsync directory, so after a power cut at any
/// instant the state is the old one or the new one, never a torn or empty file.
public final class StateStore {
    /// The state file's name.
    public static let stateFile = "state.json"
    /// The marker written before a factory reset wipes the directory.
    public static let resetMarker = "reset-pending"
    static let tempFile = ".state.json.tmp"

    /// What `open()` found.
    public struct Opened: Equatable {
        /// The state to run with.
        public var state: PlugState
        /// An interrupted factory reset was completed.
        public var resetCompleted: Bool
        /// A corrupt state file was renamed to this name (kept for inspection); defaults are used.
        public var setAside: String?
        /// No state existed: this is a new plug.
        public var created: Bool
        /// The state found was made on another board (a copied SD card): it was replaced by a
        /// new identity, and this is what was found.
        public var cloned: PlugState?
        /// The state had no board yet and was bound to this one.
        public var bound = false
    }

    private let fs: any StateFileSystem
    private let makeIdentity: () -> UUID
    /// This board's identity (`BoardIdentity`); `nil` binds nothing (the simulator, tests).
    public let board: String?

    /// A store over `fs`, bound to `board`; `makeIdentity` makes new plug identities
    /// (injectable for tests).
    public init(fs: any StateFileSystem, board: String? = nil, makeIdentity: @escaping () -> UUID = UUID.init) {
        self.fs = fs
        self.board = board
        self.makeIdentity = makeIdentity
    }

    /// Reads the state, first completing an interrupted factory reset and clearing a stale temp
    /// file. A missing state is created; a corrupt one is set aside and replaced by defaults.
    public func open() throws -> Opened {
        let names = try fs.list()
        if names.contains(Self.resetMarker) {
            let fresh = try factoryReset()
            return Opened(state: fresh, resetCompleted: true, setAside: nil, created: false)
        }
        if names.contains(Self.tempFile) {
            try fs.remove(Self.tempFile)
        }
        guard let bytes = try fs.read(Self.stateFile) else {
            let fresh = PlugState.fresh(identity: makeIdentity(), board: board)
            try save(fresh)
            return Opened(state: fresh, resetCompleted: false, setAside: nil, created: true)
        }
        if var state = Self.decode(bytes) {
            guard let board, state.board != board else {
                return Opened(state: state, resetCompleted: false, setAside: nil, created: false)
            }
            guard state.board != nil else {
                state.board = board
                try save(state)
                return Opened(state: state, resetCompleted: false, setAside: nil, created: false, bound: true)
            }
            // Made on another board: a copy of a plug's card. Two plugs with one identity would
            // take each other's MQTT connection forever, so this one becomes a new device, not
            // set up, keeping only what concerns the appliance (relay, power-on preference).
            var fresh = PlugState.fresh(identity: makeIdentity(), board: board)
            fresh.relayOn = state.relayOn
            fresh.powerOnPolicy = state.powerOnPolicy
            try save(fresh)
            return Opened(state: fresh, resetCompleted: false, setAside: nil, created: false, cloned: state)
        }
        let aside = Self.asideName(existing: names)
        try fs.rename(Self.stateFile, to: aside)
        let fresh = PlugState.fresh(identity: makeIdentity(), board: board)
        try save(fresh)
        return Opened(state: fresh, resetCompleted: false, setAside: aside, created: false)
    }

    /// Writes `state` atomically: temp file, fsync, rename over the state file, fsync directory.
    public func save(_ state: PlugState) throws {
        try fs.write(Self.tempFile, Self.encode(state))
        try fs.syncFile(Self.tempFile)
        try fs.rename(Self.tempFile, to: Self.stateFile)
        try fs.syncDirectory()
    }

    /// Factory reset: writes the reset-pending marker (durably), removes everything else in the
    /// directory, saves a fresh state with a new identity, which it returns, and only then
    /// removes the marker: at every instant the directory holds a state or the marker. If power
    /// is cut midway, `open()` finds the marker and finishes the job.
    ///
    /// - Throws: `FactoryResetError`, saying whether the reset is committed (the marker is in
    ///   the directory, so it will be finished) or nothing was wiped.
    @discardableResult
    public func factoryReset() throws -> PlugState {
        do {
            try fs.write(Self.resetMarker, Array("factory reset in progress\n".utf8))
            try fs.syncFile(Self.resetMarker)
            try fs.syncDirectory()
        } catch {
            // Not committed: take back a marker that may have been created, so that no later
            // start wipes what the user was told was kept.
            try? fs.remove(Self.resetMarker)
            let left = (try? fs.list().contains(Self.resetMarker)) ?? false
            throw FactoryResetError(committed: left, cause: error)
        }
        do {
            for name in try fs.list() where name != Self.resetMarker {
                try fs.remove(name)
            }
            try fs.syncDirectory()
            let fresh = PlugState.fresh(identity: makeIdentity(), board: board)
            try save(fresh)
            try fs.remove(Self.resetMarker)
            try fs.syncDirectory()
            return fresh
        } catch {
            throw FactoryResetError(committed: true, cause: error)
        }
    }

    /// The state file's bytes for `state` (pretty JSON, sorted keys, so an admin can read it).
    public static func encode(_ state: PlugState) -> [UInt8] {
        state.json.bytes(pretty: true) + [0x0A]
    }

    /// The state in `bytes`, or `nil` if they are not a valid state file.
    public static func decode(_ bytes: [UInt8]) -> PlugState? {
        guard let json = try? JSON.parse(bytes), let state = try? PlugState(json: json),
            state.version == PlugState.currentVersion
        else { return nil }
        return state
    }

    static func asideName(existing: [String]) -> String {
        var n = 1
        while existing.contains("\(stateFile).corrupt-\(n)") { n += 1 }
        return "\(stateFile).corrupt-\(n)"
    }
}

/// A factory reset that could not finish.
public struct FactoryResetError: Error, CustomStringConvertible {
    /// The reset-pending marker is in the state directory: the reset is finished by the next
    /// `factoryReset()` or `open()`. `false`: nothing was wiped.
    public var committed: Bool
    /// What failed (usually a `StateStoreError`).
    public var cause: any Error

    public init(committed: Bool, cause: any Error) {
        self.committed = committed
        self.cause = cause
    }

    public var description: String { "\(cause)" }
}
