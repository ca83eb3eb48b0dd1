/// Everything the LED can be asked to show, each with the instant it began (`nil` = not now).
///
/// The plug state machine fills this in; `LEDEngine` picks what wins.
public struct LEDConditions: Equatable, Sendable {
    /// A factory reset is wiping the state.
    public var factoryResetRunning: MonotonicInstant?
    /// A factory reset has just completed.
    public var resetComplete: MonotonicInstant?
    /// The button was held at start-up and has now been held past the factory-reset threshold.
    public var startupHoldArmed = false
    /// A hold has passed the factory-reset threshold.
    public var factoryResetArmed = false
    /// A hold has passed the setup threshold.
    public var setupArmed = false
    /// The plug is in setup mode.
    public var setupMode: MonotonicInstant?
    /// The plug is degraded (state cannot be written).
    public var fault: MonotonicInstant?
    /// An `identify` command is being shown.
    public var identify: MonotonicInstant?
    /// The MQTT broker has been unreachable since then.
    public var brokerUnreachable: MonotonicInstant?
    /// When the daemon started (for the start-up flashes).
    public var started: MonotonicInstant?
    /// The relay is on.
    public var relayOn = false

    public init() {}
}

/// Chooses the LED pattern from the plug's conditions, highest priority first
/// (spec: "LED"):
///
/// factory reset running (orange, 4 Hz) · reset complete (solid blue) · start-up hold ≥ 12 s
/// (off) · hold ≥ 12 s (solid orange) · hold ≥ 5 s (solid red) · identify (green, 2 Hz) ·
/// setup mode (blue, 1 Hz) · fault (red, 2 Hz) · start-up (3 short red flashes) · broker
/// unreachable (red, 1 Hz) · normal (relay on = blue, off = off).
public enum LEDEngine {
    /// The lit and dark time of each start-up flash.
    public static let startupFlash: Duration = .milliseconds(150)
    /// The number of start-up flashes.
    public static let startupFlashCount = 3

    /// The pattern to show at `now` for `conditions`.
    public static func pattern(for c: LEDConditions, at now: MonotonicInstant) -> LEDPattern {
        if let since = c.factoryResetRunning { return .blinking(.orange, hertz: 4, since: since) }
        if c.resetComplete != nil { return .solid(.blue) }
        if c.startupHoldArmed { return .solid(.off) }
        if c.factoryResetArmed { return .solid(.orange) }
        if c.setupArmed { return .solid(.red) }
        if let since = c.identify { return .blinking(.green, hertz: 2, since: since) }
        if let since = c.setupMode { return .blinking(.blue, hertz: 1, since: since) }
        if let since = c.fault { return .blinking(.red, hertz: 2, since: since) }
        if let started = c.started {
            let flashes = LEDPattern.flashes(
                .red, count: startupFlashCount, on: startupFlash,
                off: startupFlash, since: started)
            if let end = flashes.end, now < end { return flashes }
        }
        if let since = c.brokerUnreachable { return .blinking(.red, hertz: 1, since: since) }
        return .solid(c.relayOn ? .blue : .off)
    }
}
