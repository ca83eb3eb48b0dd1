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

    public init(host: String, port: Int? = nil, caFile: String? = nil, username: String? = nil,
                passwordFile: String? = nil, topicPrefix: String = "plugd", discoveryPrefix: String = "homeassistant",
                keepalive: Int = 60, reconnectMin: Duration = .seconds(1), reconnectMax: Duration = .seconds(60)) {
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

    /// `host:port`, for log entries.
    public var broker: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
