#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
@testable import PlugConfig

/// Settings a careless admin (or an attacker with write access to one file) can give, that used
/// to pass `--check-config` and then fail forever at run time, or destroy a file.
@Suite struct HostileConfigTests {
    func errors(_ text: String) -> [ConfigError] {
        do {
            _ = try PlugConfig.parse(minimal + "\n" + text, file: "m.toml")
            return []
        } catch let e as ConfigErrors {
            return e.errors
        } catch {
            return [ConfigError(file: "?", key: "unexpected", reason: "\(error)")]
        }
    }

    /// A fresh directory with `files` (name → bytes) in it, removed afterwards.
    func withFiles(_ files: [String: [UInt8]], _ body: (String) throws -> Void) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("plugd-hostile-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (name, bytes) in files { try Data(bytes).write(to: URL(fileURLWithPath: dir + "/" + name)) }
        try body(dir)
    }

    @Test(arguments: ["$SYS/plugs", "$share/g/plugs", "plugs\u{7}", "home/\u{FFFF}", "a\u{1B}[31m", "tab\there"])
    func topicPrefixesTheBrokerRefusesAreRejected(prefix: String) {
        // As a TOML basic string: \uXXXX for what is not printable ASCII.
        let escaped = prefix.unicodeScalars.map { (0x20..<0x7f).contains($0.value) ? String($0) : "\\u" + String(format: "%04X", $0.value) }.joined()
        for key in ["topic_prefix", "discovery_prefix"] {
            let e = errors("[mqtt]\nhost = \"h\"\n\(key) = \"\(escaped)\"")
            #expect(e.map(\.key) == ["mqtt.\(key)"], "\(e)")
            #expect(e.allSatisfy { !$0.description.contains("\n") && !$0.description.unicodeScalars.contains { $0.value < 0x20 } })
        }
    }

    @Test func passwordFilesThatCannotWorkAreRejectedWithTheReason() throws {
        try withFiles(["crlf": Array("s3cret\r\n".utf8), "good": Array("s3cret\n".utf8)]) { dir in
            #expect(mkfifo(dir + "/fifo", 0o600) == 0)
            let cases: [(String, String)] = [
                (dir + "/crlf", "CRLF"), (dir, "is a directory"), (dir + "/fifo", "FIFO"), ("/dev/zero", "character device"),
                ("/nonexistent", "does not exist"),
            ]
            for (path, reason) in cases {
                let e = errors("[mqtt]\nhost = \"h\"\nusername = \"u\"\npassword_file = \"\(path)\"")
                #expect(e.map(\.key) == ["mqtt.password_file"] && e.first?.reason.contains(reason) == true, "\(path): \(e)")
            }
            #expect(errors("[mqtt]\nhost = \"h\"\nusername = \"u\"\npassword_file = \"\(dir)/good\"").isEmpty)
        }
    }

    @Test func aCAFileMustHoldAPEMCertificate() throws {
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
        try withFiles(["der": [0x30, 0x82, 0x01, 0x0a], "key.pem": Array("-----BEGIN PRIVATE KEY-----\n".utf8), "ca.pem": Array(pem.utf8)]) { dir in
            for bad in ["der", "key.pem"] {
                let e = errors("[mqtt]\nhost = \"h\"\nca_file = \"\(dir)/\(bad)\"")
                #expect(e.map(\.key) == ["mqtt.ca_file"] && e.first?.reason.contains("no PEM certificate") == true, "\(e)")
            }
            #expect(errors("[mqtt]\nhost = \"h\"\nca_file = \"\(dir)/ca.pem\"").isEmpty)
            #expect(errors("[mqtt]\nhost = \"h\"\nca_file = \"/dev/zero\"").first?.reason.contains("character device") == true)
        }
    }

    @Test func theControlSocketNeverNamesAFileOrAPathInTheStateDirectory() throws {
        try withFiles(["state.json": Array("{}".utf8)]) { dir in
            let e = errors("[control]\nsocket = \"\(dir)/state.json\"")
            #expect(e.map(\.key) == ["control.socket"] && e.first?.reason.contains("a regular file, not a socket") == true, "\(e)")
            #expect(errors("[control]\nsocket = \"\(dir)\"").map(\.key) == ["control.socket"])
            #expect(PlugConfig.controlSocketProblem(dir + "/plugd.sock", stateDirectory: dir) != nil)
            #expect(PlugConfig.controlSocketProblem(dir + "/plugd.sock", stateDirectory: dir + "/") != nil)
            #expect(PlugConfig.controlSocketProblem(dir + "-run/plugd.sock", stateDirectory: dir) == nil)
            #expect(errors("[control]\nsocket = \"/var/lib/plugd/control.sock\"").map(\.key) == ["control.socket"])
        }
    }

    @Test func aConfigThatIsNotARegularFileIsSaidToBeSo() throws {
        try withFiles([:]) { dir in
            #expect(mkfifo(dir + "/fifo.toml", 0o600) == 0)
            for (path, reason) in [
                (dir + "/fifo.toml", "is a FIFO (named pipe), not a regular file"),
                ("/dev/zero", "is a character device, not a regular file"),
            ] {
                #expect(throws: ConfigErrors([ConfigError(file: path, key: nil, reason: reason)])) { try PlugConfig.load(path: path) }
            }
        }
    }

    @Test func aHugeConfigIsRefusedAndThousandsOfErrorsAreCapped() throws {
        let many = (0..<5000).map { "k\($0) = 1" }.joined(separator: "\n")
        try withFiles(["big.toml": Array((minimal + "\n" + many + "\n" + String(repeating: "#", count: 70_000)).utf8)]) { dir in
            #expect(
                throws: ConfigErrors([
                    ConfigError(
                        file: dir + "/big.toml", key: nil,
                        reason: "is \(minimal.utf8.count + many.utf8.count + 2 + 70_000) bytes; more than the 65536 bytes such a file can need")
                ])
            ) {
                try PlugConfig.load(path: dir + "/big.toml")
            }
        }
        do {
            _ = try PlugConfig.parse(minimal + "\n" + many, file: "many.toml")
            Issue.record("accepted")
        } catch let e as ConfigErrors {
            #expect(e.errors.count == 5000)
            let lines = e.description.split(separator: "\n")
            #expect(lines.count == ConfigErrors.shown + 1)
            #expect(lines.last == "many.toml: and \(5000 - ConfigErrors.shown) more problems")
        }
    }
}
