#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What the relay does at power-on (spec: "Power-on policy").
public enum PowerOnPolicy: String, Sendable, Codable, CaseIterable {
    /// Always start off.
    case off
    /// Always start on.
    case on
    /// Return to the state before the power cut (the default).
    case last

    /// The relay's initial level for this policy, given the remembered one.
    public func initialRelay(remembered: Bool) -> Bool {
        switch self {
        case .off: false
        case .on: true
        case .last: remembered
        }
    }
}

/// The plug's mutable, persisted state: identity, name, registration, relay memory and
/// preferences. It lives in the state directory and is written atomically as one file.
public struct PlugState: Equatable, Sendable {
    /// The format version of the file.
    public var version: Int
    /// The plug's identity; a factory reset makes a new one.
    public var identity: UUID
    /// The user's name for the plug.
    public var name: String
    /// Whether the plug has completed setup (the seed's "registered with the app").
    public var registered: Bool
    /// The last relay state, restored at power-on under the `last` policy.
    public var relayOn: Bool
    /// User preferences that override the config file; `nil` = use the config's value.
    public var powerOnPolicy: PowerOnPolicy?
    /// The board this state was made on (`BoardIdentity`): a state found on another board came
    /// from a copied SD card, and that plug becomes a new device. `nil` in files written before
    /// plugd bound its state to a board (bound at the next start).
    public var board: String?
    /// A countdown on the relay, if one runs (`plugctl on --for 30m`).
    public var countdown: Countdown?
    /// The wall-clock instant (seconds since the Unix epoch) up to which the schedules have
    /// been run: a run after it and before the clock's time at the next start was missed.
    public var scheduleSeen: Int64?

    /// The current file format version.
    public static let currentVersion = 1

    /// The state of a new (or factory-reset) plug with the given identity.
    public static func fresh(identity: UUID, board: String? = nil) -> PlugState {
        PlugState(
            version: currentVersion, identity: identity, name: "plugd", registered: false,
            relayOn: false, powerOnPolicy: nil, board: board)
    }

    /// Where a `board` identity came from, for the journal (`BoardIdentity` makes them).
    public static func source(ofBoard board: String) -> String {
        if board.hasPrefix("serial:") { return "the board's serial number in the device tree" }
        if board.hasPrefix("machine-id:") { return "/etc/machine-id" }
        if board.hasPrefix("config:") { return "state.board_id in the config" }
        return "an unknown source"
    }

    public init(
        version: Int, identity: UUID, name: String, registered: Bool, relayOn: Bool,
        powerOnPolicy: PowerOnPolicy?, board: String? = nil, countdown: Countdown? = nil, scheduleSeen: Int64? = nil
    ) {
        self.scheduleSeen = scheduleSeen
        self.board = board
        self.countdown = countdown
        self.version = version
        self.identity = identity
        self.name = name
        self.registered = registered
        self.relayOn = relayOn
        self.powerOnPolicy = powerOnPolicy
    }
}
