import PlugStore

/// Whether a `FlakyFileSystem` accepts changes: all of them, none (`failing`), or the next
/// `allowing` ones and then none (storage that turns read-only in the middle of a sequence).
final class DiskSwitch {
    var failing = false
    /// Changes still allowed before the disk fails; `nil` = no limit.
    var allowing: Int?
    /// Changes tried (successful or not).
    private(set) var attempts = 0
    /// Changes refused.
    private(set) var refused = 0

    func check(_ op: String, _ name: String) throws {
        attempts += 1
        if let n = allowing {
            if n > 0 { allowing = n - 1; return }
            failing = true
            allowing = nil
        }
        if failing {
            refused += 1
            throw StateStoreError(op, name, "Read-only file system")
        }
    }
}

/// A real state directory whose changes (write, fsync, rename, unlink, directory fsync) fail
/// while its `DiskSwitch` says so; reads and listings always work, as on a card remounted
/// read-only.
final class FlakyFileSystem: StateFileSystem {
    private let real: PosixStateFileSystem
    private let disk: DiskSwitch

    init(directory: String, disk: DiskSwitch) throws {
        real = try PosixStateFileSystem(directory: directory)
        self.disk = disk
    }

    func read(_ name: String) throws -> [UInt8]? { try real.read(name) }
    func list() throws -> [String] { try real.list() }
    func write(_ name: String, _ bytes: [UInt8]) throws { try disk.check("write", name); try real.write(name, bytes) }
    func syncFile(_ name: String) throws { try disk.check("fsync", name); try real.syncFile(name) }
    func rename(_ from: String, to: String) throws { try disk.check("rename", from); try real.rename(from, to: to) }
    func remove(_ name: String) throws { try disk.check("unlink", name); try real.remove(name) }
    func syncDirectory() throws { try disk.check("fsync", "."); try real.syncDirectory() }
}
