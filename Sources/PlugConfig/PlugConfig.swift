import PlugCore
import PlugGPIO
import PlugMQTT
import PlugPOSIX

/// plugd's configuration (`/etc/plugd/plugd.toml`): wiring, timings, power-on policy, state and
/// control settings. Read-only to the daemon; never wiped by a reset.
///
/// `PlugConfig.load(path:)` reports every invalid value, one `ConfigError` each, naming the file,
/// the key and the reason, before any GPIO line is touched.
public struct PlugConfig: Sendable, Equatable {
    /// Where the relay, button and LED are wired.
    public var wiring: Wiring
    /// Gesture and LED timings.
    public var timings: PlugTimings
    /// The relay at power-on.
    public var powerOn: PowerOnPolicy
    /// Coalescing window for state writes.
    public var writeDelay: Duration
    /// The control socket's path.
    public var controlSocket: String
    /// `state.board_id`: this board's identity, given by hand (boards with no serial number whose
    /// cards are copied after first boot); `nil` = found by plugd (`BoardIdentity`).
    public var boardID: String? = nil
    /// The MQTT broker; `nil` (no `[mqtt]` section) = MQTT off.
    public var mqtt: MQTTSettings?
    /// `[[schedule]]` entries and `[location]`; none by default.
    public var schedule = Schedule()

    /// The default config file.
    public static let defaultPath = "/etc/plugd/plugd.toml"

    /// The state directory when neither `--state-dir` nor `$STATE_DIRECTORY` names one.
    public static let defaultStateDirectory = "/var/lib/plugd"

    /// Why `socket` cannot be the control socket's path, if it cannot: something that is not a
    /// socket is there (plugd would have to delete it), or it lies inside the state directory
    /// (a factory reset wipes that directory, and the socket could take a state file's name).
    public static func controlSocketProblem(_ socket: String, stateDirectory: String) -> String? {
        if let type = FileSystem.type(of: socket, followLinks: false), type != .socket {
            return "\(socket) is \(type.described), not a socket: plugd would have to delete it; name a path of its own, like /run/plugd/control.sock"
        }
        let dir = stateDirectory.hasSuffix("/") ? stateDirectory : stateDirectory + "/"
        if (socket + "/").hasPrefix(dir) {
            return "\(socket) is inside the state directory \(stateDirectory): name a path of its own, like /run/plugd/control.sock"
        }
        return nil
    }

    /// Reads and validates the file at `path`.
    /// - Throws: `ConfigErrors` with one entry per problem.
    public static func load(path: String) throws -> PlugConfig {
        func fail(_ reason: String) -> ConfigErrors { ConfigErrors([ConfigError(file: path, key: nil, reason: reason)]) }
        let data: [UInt8]
        do {
            data = try SmallFile.read(path, limit: sizeLimit)
        } catch .missing {
            throw fail("no such file")
        } catch .notRegular(.directory) {
            throw fail("is a directory, not a config file")
        } catch {
            throw fail("\(error)")
        }
        guard let text = String(validating: data, as: UTF8.self) else { throw fail("is not UTF-8 text") }
        return try parse(text, file: path)
    }

    /// The largest config file read: a full one with comments is about 3 KB.
    public static let sizeLimit = 64 * 1024

    /// Parses and validates TOML `text` (`file` names it in errors).
    public static func parse(_ text: String, file: String) throws -> PlugConfig {
        if let line = headerTOMLCannotParse(text) {
            throw ConfigErrors([
                ConfigError(
                    file: file, key: nil,
                    reason: "line \(line): a table header must start with a name, like [relay]")
            ])
        }
        let root: TOMLTable
        do {
            root = try TOMLTable(parsing: text)
        } catch let e as TOMLSyntaxError {
            // toml++ quotes the text it choked on as it is, line breaks included: escape them
            // so the error stays one line.
            let message = e.message.unicodeScalars.map { $0.properties.generalCategory == .control ? $0.escaped(asASCII: true) : String($0) }.joined()
            throw ConfigErrors([ConfigError(file: file, key: nil, reason: "line \(e.line): \(message)")])
        }
        var r = ConfigReader(file: file, root: root)
        let config = r.read()
        if !r.errors.isEmpty { throw ConfigErrors(r.errors) }
        return config!
    }
}

extension PlugConfig {
    /// The first line that is a table header whose name does not start with a key character or
    /// a quote: `[`, `[ # note`, `[.relay]`, `[[`. toml++ (3.3 and 3.4) does not report these;
    /// it fails an assertion and aborts the process, in release builds too. The config fuzzer
    /// (integration/corpus.py) found it. So plugd finds such a line first and reports it as a syntax
    /// error. No config plugd accepts is affected: no key takes a multi-line string, and the one
    /// array (`days`) holds strings, so in a valid plugd config every line that starts with `[`
    /// is a table header (`[[schedule]]` included).
    static func headerTOMLCannotParse(_ text: String) -> Int? {
        // Byte by byte: every character this looks at is ASCII (a scan by Character cost a
        // twentieth of plugd's start).
        func isBlank(_ b: UInt8) -> Bool { b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") }
        func startsAName(_ b: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(b) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(b)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) || Array("_-\"']".utf8).contains(b)
        }
        for (index, line) in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            var rest = line.drop(while: isBlank)
            guard rest.first == UInt8(ascii: "[") else { continue }
            rest = rest.dropFirst()
            if rest.first == UInt8(ascii: "[") { rest = rest.dropFirst() }
            rest = rest.drop(while: isBlank)
            guard let b = rest.first, startsAName(b) else { return index + 1 }
        }
        return nil
    }
}

/// One problem in a config file.
public struct ConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    public var file: String
    /// The dotted key, e.g. `button.debounce_ms`; `nil` for the file as a whole.
    public var key: String?
    public var reason: String

    public var description: String { key.map { "\(file): \($0): \(reason)" } ?? "\(file): \(reason)" }
}

/// Every problem found in a config file.
public struct ConfigErrors: Error, Equatable, Sendable, CustomStringConvertible {
    public var errors: [ConfigError]
    public init(_ errors: [ConfigError]) { self.errors = errors }
    /// One line per problem, the first `shown` of them, then how many more there are.
    public var description: String {
        let lines = errors.prefix(Self.shown).map(\.description)
        let more = errors.count - lines.count
        return (lines + (more > 0 ? ["\(errors[0].file): and \(more) more problems"] : [])).joined(separator: "\n")
    }

    /// How many problems are listed; a file with thousands lists the first ones and a count.
    public static let shown = 20
}
