/// The `[mqtt]` section of the config: where the broker is and how to log in. MQTT is off
/// unless the section is there.
public struct MQTTSettings: Sendable, Equatable {
    /// The broker's host name or address.
    public var host: String
    /// The broker's port: 1883 by default, 8883 with TLS.
    public var port: Int
    /// The CA certificate file that signs the broker's certificate; set = TLS on.
    public var caFile: String?
    /// The user name to log in with, if the broker asks for one.
    public var username: String?
    /// A file whose first line is the password (kept out of the config, which is world-readable).
    public var passwordFile: String?
    /// The first level of the plug's topics: `<prefix>/<device id>/state`.
    public var topicPrefix: String
    /// Home Assistant's discovery prefix.
    public var discoveryPrefix: String
    /// Seconds between keepalive pings when nothing else is sent.
    public var keepalive: Int
    /// The first and the longest delay between connection attempts.
    public var reconnectMin: Duration
    public var reconnectMax: Duration
    /// The button presses that can happen, announced to Home Assistant as device triggers:
    /// `single`, and `double` and `triple` with multi-press on (from `[button]`, not `[mqtt]`).
    public var presses: [String] = ["single"]

    public init(
        host: String, port: Int? = nil, caFile: String? = nil, username: String? = nil,
        passwordFile: String? = nil, topicPrefix: String = "plugd", discoveryPrefix: String = "homeassistant",
        keepalive: Int = 60, reconnectMin: Duration = .seconds(1), reconnectMax: Duration = .seconds(60)
    ) {
        self.host = host
        self.port = port ?? (caFile == nil ? 1883 : 8883)
        self.caFile = caFile
        self.username = username
        self.passwordFile = passwordFile
        self.topicPrefix = topicPrefix
        self.discoveryPrefix = discoveryPrefix
        self.keepalive = keepalive
        self.reconnectMin = reconnectMin
        self.reconnectMax = reconnectMax
    }

    /// How long a factory reset waits for the broker to confirm that the plug was removed from
    /// Home Assistant before it wipes the identity.
    public static let removalWait: Duration = .seconds(3)

    /// The most bytes a password or CA file may have (a CA bundle is a few hundred KB).
    public static let fileLimit = 1 << 20

    /// The password in a password file's bytes: its first line, without the line break. A
    /// Windows line ending is refused rather than guessed at: the `\r` would be sent as part of
    /// the password and the broker would say only "not authorised".
    public static func password(inFile bytes: [UInt8]) -> Result<String, SettingsProblem> {
        let line = bytes.split(separator: 0x0A, maxSplits: 1, omittingEmptySubsequences: false).first ?? []
        guard let text = String(validating: line, as: UTF8.self) else {
            return .failure(SettingsProblem("its first line is not UTF-8 text"))
        }
        if text.hasSuffix("\r") || text.utf8.last == 0x0D {
            return .failure(SettingsProblem("has Windows (CRLF) line endings: the carriage return would become part of the password; convert it with dos2unix or sed -i 's/\\r$//'"))
        }
        if text.utf8.contains(0) { return .failure(SettingsProblem("contains a NUL byte")) }
        return .success(text)
    }

    /// Whether a CA file's bytes hold at least one PEM certificate, as libmosquitto (OpenSSL)
    /// needs; a DER file or a key gives only "A TLS error occurred" at each connection attempt.
    public static func problem(inCAFile bytes: [UInt8]) -> SettingsProblem? {
        let marker = Array("-----BEGIN CERTIFICATE-----".utf8)
        guard bytes.count >= marker.count,
            (0...(bytes.count - marker.count)).contains(where: { bytes[$0..<($0 + marker.count)].elementsEqual(marker) })
        else {
            return SettingsProblem("holds no PEM certificate (a line -----BEGIN CERTIFICATE-----); convert a DER file with openssl x509 -inform der -in FILE -out FILE.pem")
        }
        return nil
    }

    /// Why a topic prefix cannot work, if it cannot: empty, a wildcard (`+`, `#`), an empty
    /// level, a leading `$` (the broker's own topics: every publish is denied), or characters
    /// the broker refuses as malformed UTF-8 (control characters, U+FFFE/U+FFFF and the other
    /// noncharacters).
    public static func problem(inTopicPrefix p: String) -> SettingsProblem? {
        if p.isEmpty || p.contains(where: { "+#".contains($0) })
            || p.split(separator: "/", omittingEmptySubsequences: false).contains(where: \.isEmpty)
        {
            return SettingsProblem("must be topic levels like \"home/plugs\": no +, #, or empty level")
        }
        if p.hasPrefix("$") {
            return SettingsProblem("must not start with $: topics starting with $ ($SYS, $share) belong to the broker, which denies plugd's messages")
        }
        if let bad = p.unicodeScalars.first(where: { $0.properties.generalCategory == .control || $0.properties.isNoncharacterCodePoint }) {
            return SettingsProblem("contains U+\(String(bad.value, radix: 16, uppercase: true)), a character MQTT does not allow in topics")
        }
        return nil
    }

    /// `host:port`, for log entries.
    public var broker: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Why a setting cannot work, worded to follow its key's name.
public struct SettingsProblem: Error, Equatable, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
