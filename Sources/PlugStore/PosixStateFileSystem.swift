import PlugPOSIX

/// `StateFileSystem` on a real directory, with POSIX calls: `open`/`write`, `fsync`, `rename`,
/// `unlink`, and `fsync` on the directory itself.
public final class PosixStateFileSystem: StateFileSystem {
    /// The state directory.
    public let directory: String

    /// Uses `directory`, creating it (mode 0700) if it does not exist.
    public init(directory: String) throws {
        self.directory = directory
        do { try FileSystem.makeDirectory(directory, mode: 0o700) } catch {
            throw StateStoreError("create directory", directory, "\(error)")
        }
    }

    private func path(_ name: String) -> String { directory.hasSuffix("/") ? directory + name : directory + "/" + name }

    /// Runs one step, naming the operation and the file if it fails.
    private func step<T>(_ op: String, _ name: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch { throw StateStoreError(op, path(name), "\(error)") }
    }

    public func read(_ name: String) throws -> [UInt8]? {
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(path(name), .readOnly)
        } catch let e as Errno where e == .noSuchFileOrDirectory {
            return nil
        } catch {
            throw StateStoreError("open", path(name), "\(error)")
        }
        return try step("read", name) { try fd.closeAfter { try fd.readAll() } }
    }

    public func write(_ name: String, _ bytes: [UInt8]) throws {
        try step("write", name) {
            let fd = try FileDescriptor.open(path(name), .writeOnly, create: true, truncate: true, mode: 0o600)
            try fd.closeAfter { try fd.writeAll(bytes) }
        }
    }

    public func syncFile(_ name: String) throws {
        try step("fsync", name) {
            let fd = try FileDescriptor.open(path(name), .readOnly)
            try fd.closeAfter { try fd.sync() }
        }
    }

    public func rename(_ from: String, to: String) throws {
        try step("rename to \(to)", from) { try FileSystem.rename(path(from), to: path(to)) }
    }

    public func remove(_ name: String) throws {
        try step("remove", name) { try FileSystem.remove(path(name)) }
    }

    public func syncDirectory() throws {
        do {
            let fd = try FileDescriptor.open(directory, .readOnly, directory: true)
            try fd.closeAfter { try fd.sync() }
        } catch {
            throw StateStoreError("fsync directory", directory, "\(error)")
        }
    }

    public func list() throws -> [String] {
        do { return try FileSystem.names(in: directory) } catch {
            throw StateStoreError("list", directory, "\(error)")
        }
    }
}
