import PlugStore

/// A crash at a chosen step.
struct SimulatedCrash: Error {}

/// A model of a disk under a journaling filesystem, for crash tests: file data reaches stable
/// storage only on `syncFile`, directory entries (create, rename, remove) only on
/// `syncDirectory`. `powerCut()` keeps what was synced and nothing else — a file renamed into
/// place without fsync comes back empty, as on ext4 with delayed allocation.
///
/// `crashBeforeStep` makes the n-th mutating step (0-based) throw instead of happening: the
/// process dies right there.
final class SimulatedDisk: StateFileSystem {
    private var volatileData: [Int: [UInt8]] = [:]
    private var durableData: [Int: [UInt8]] = [:]
    private var volatileDir: [String: Int] = [:]
    private var durableDir: [String: Int] = [:]
    private var nextInode = 1
    var crashBeforeStep: Int?
    private(set) var steps = 0

    private func step() throws {
        defer { steps += 1 }
        if let c = crashBeforeStep, steps >= c { throw SimulatedCrash() }
    }

    /// Power is cut: everything not synced is lost; the process starts again.
    func powerCut() {
        volatileDir = durableDir
        volatileData = [:]
        for inode in durableDir.values { volatileData[inode] = durableData[inode] ?? [] }
        crashBeforeStep = nil
        steps = 0
    }

    /// The process died but the kernel kept running: nothing is lost.
    func processRestart() {
        crashBeforeStep = nil
        steps = 0
    }

    /// Puts a file in place as if it had been there, synced, for a long time.
    func seed(_ name: String, _ bytes: [UInt8]) {
        let inode = nextInode; nextInode += 1
        volatileDir[name] = inode; durableDir[name] = inode
        volatileData[inode] = bytes; durableData[inode] = bytes
    }

    func read(_ name: String) throws -> [UInt8]? { volatileDir[name].map { volatileData[$0] ?? [] } }

    func write(_ name: String, _ bytes: [UInt8]) throws {
        try step()
        let inode =
            volatileDir[name]
            ?? {
                let i = nextInode; nextInode += 1; return i
            }()
        volatileDir[name] = inode
        volatileData[inode] = bytes
    }

    func syncFile(_ name: String) throws {
        try step()
        guard let inode = volatileDir[name] else { throw StateStoreError("fsync", name, "no such file") }
        durableData[inode] = volatileData[inode]
    }

    func rename(_ from: String, to: String) throws {
        try step()
        guard let inode = volatileDir.removeValue(forKey: from) else { throw StateStoreError("rename", from, "no such file") }
        volatileDir[to] = inode
    }

    func remove(_ name: String) throws {
        try step()
        volatileDir.removeValue(forKey: name)
    }

    func syncDirectory() throws {
        try step()
        durableDir = volatileDir
    }

    func list() throws -> [String] { volatileDir.keys.sorted() }
}
