#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SystemPackage

/// `StateFileSystem` on a real directory, with POSIX calls: `open`/`write`, `fsync`, `rename`,
/// `unlink`, and `fsync` on the directory itself.
public final class PosixStateFileSystem: StateFileSystem {
    /// The state directory.
    public let directory: FilePath

    /// Uses `directory`, creating it (mode 0700) if it does not exist.
    public init(directory: FilePath) throws {
        self.directory = directory
        if mkdir(directory.string, 0o700) != 0 && errno != EEXIST {
            throw StateStoreError("create directory", directory.string, Errno(rawValue: errno).description)
        }
    }

    private func path(_ name: String) -> FilePath { directory.appending(name) }

    private func fail(_ op: String, _ name: String, _ error: any Error) -> StateStoreError {
        StateStoreError(op, path(name).string, "\(error)")
    }

    public func read(_ name: String) throws -> [UInt8]? {
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(path(name), .readOnly)
        } catch Errno.noSuchFileOrDirectory {
            return nil
        } catch {
            throw fail("open", name, error)
        }
        return try fd.closeAfter {
            var out: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 16 * 1024)
            while true {
                let n = try buffer.withUnsafeMutableBytes { try fd.read(into: $0) }
                if n == 0 { return out }
                out += buffer[0..<n]
            }
        }
    }

    public func write(_ name: String, _ bytes: [UInt8]) throws {
        do {
            let fd = try FileDescriptor.open(path(name), .writeOnly, options: [.create, .truncate],
                                             permissions: [.ownerReadWrite])
            try fd.closeAfter { _ = try fd.writeAll(bytes) }
        } catch {
            throw fail("write", name, error)
        }
    }

    public func syncFile(_ name: String) throws {
        do {
            let fd = try FileDescriptor.open(path(name), .readOnly)
            try fd.closeAfter {
                if fsync(fd.rawValue) != 0 { throw Errno(rawValue: errno) }
            }
        } catch {
            throw fail("fsync", name, error)
        }
    }

    public func rename(_ from: String, to: String) throws {
        #if canImport(Glibc)
        let result = Glibc.rename(path(from).string, path(to).string)
        #else
        let result = Darwin.rename(path(from).string, path(to).string)
        #endif
        if result != 0 { throw fail("rename to \(to)", from, Errno(rawValue: errno)) }
    }

    public func remove(_ name: String) throws {
        if unlink(path(name).string) != 0 && errno != ENOENT { throw fail("remove", name, Errno(rawValue: errno)) }
    }

    public func syncDirectory() throws {
        do {
            let fd = try FileDescriptor.open(directory, .readOnly, options: [.directory])
            try fd.closeAfter {
                if fsync(fd.rawValue) != 0 { throw Errno(rawValue: errno) }
            }
        } catch {
            throw StateStoreError("fsync directory", directory.string, "\(error)")
        }
    }

    public func list() throws -> [String] {
        guard let dir = opendir(directory.string) else {
            throw StateStoreError("list", directory.string, Errno(rawValue: errno).description)
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }
}
