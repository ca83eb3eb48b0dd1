import Foundation
import Testing
@testable import PlugPOSIX

@Suite struct PlugPOSIXTests {
    func temporaryDirectory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("plugd-posix-\(UUID().uuidString)").path
        try FileSystem.makeDirectory(dir, mode: 0o700)
        return dir
    }

    @Test func errnoSaysWhatTheSystemSays() {
        #expect(Errno.noSuchFileOrDirectory.description == "No such file or directory")
        #expect(Errno.readOnlyFileSystem.description == "Read-only file system")
    }

    @Test func aFileIsWrittenSyncedRenamedReadListedAndRemoved() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let bytes = [UInt8]((0..<40_000).map { UInt8($0 % 251) }) // more than one read
        let fd = try FileDescriptor.open(dir + "/a", .writeOnly, create: true, truncate: true, mode: 0o600)
        try fd.closeAfter {
            try fd.writeAll(bytes); try fd.sync()
        }
        try FileSystem.rename(dir + "/a", to: dir + "/b")
        let back = try FileDescriptor.open(dir + "/b", .readOnly)
        #expect(try back.closeAfter { try back.readAll() } == bytes)
        #expect(try FileSystem.names(in: dir) == ["b"])
        let d = try FileDescriptor.open(dir, .readOnly, directory: true)
        try d.closeAfter { try d.sync() }
        try FileSystem.remove(dir + "/b")
        try FileSystem.remove(dir + "/b") // already gone: not an error
        #expect(try FileSystem.names(in: dir) == [])
        let mode = try FileManager.default.attributesOfItem(atPath: dir)[.posixPermissions] as? Int
        #expect(mode == 0o700)
    }

    @Test func failuresThrowTheirErrno() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(throws: Errno.noSuchFileOrDirectory) { try FileDescriptor.open(dir + "/missing", .readOnly) }
        #expect(throws: Errno.noSuchFileOrDirectory) { try FileSystem.rename(dir + "/missing", to: dir + "/x") }
        #expect(throws: Errno.noSuchFileOrDirectory) { try FileSystem.names(in: dir + "/missing") }
        #expect(throws: Errno(rawValue: ENOTDIR)) { try FileDescriptor.open("/dev/null", .readOnly, directory: true) }
        try FileSystem.makeDirectory(dir, mode: 0o700) // existing: not an error
    }
}
