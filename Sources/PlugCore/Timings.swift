/// When a short press toggles the relay.
public enum ToggleEdge: String, Sendable, Codable, CaseIterable {
    /// Toggle as soon as the press is debounced (the default; feels instant).
    case press
    /// Toggle on release of a short press.
    case release
}

/// What a short press does (`[button] mode`).
public enum ButtonMode: String, Sendable, CaseIterable {
    /// A single press toggles the relay (the default).
    case toggle
    /// Presses do not switch the relay; they are reported (journal, `plugctl watch`, MQTT, Home
    /// Assistant device triggers). Double and triple presses may still have an action.
    case detached
}

/// What a double or triple press does (`[button] double_press`, `triple_press`).
public enum PressAction: String, Sendable, CaseIterable {
    /// Nothing but the report.
    case none
    case on, off, toggle
}

/// The button's timing rules (spec: "Button timing").
public struct ButtonTimings: Sendable, Equatable {
    /// A level counts only after it has been stable this long.
    public var debounce: Duration = .milliseconds(50)
    /// Hold this long: LED red, release = simple reset (setup mode).
    public var setupHold: Duration = .seconds(5)
    /// Hold this long: LED orange, release = factory reset.
    public var factoryHold: Duration = .seconds(12)
    /// Hold this long: the button is stuck; the hold is cancelled and nothing resets.
    public var stuckHold: Duration = .seconds(30)
    /// When a short press toggles the relay (with multi-press off).
    public var toggleOn: ToggleEdge = .press
    /// What a single press does.
    public var mode: ButtonMode = .toggle
    /// Multi-press: presses whose release and next press are less than this apart form a double
    /// or triple press. Zero (the default) turns it off: a single press acts at once. On, a
    /// single press acts only once this much has passed after its release without another.
    public var multiPressGap: Duration = .zero
    /// What a double press does, and a triple press (with multi-press on).
    public var doublePress: PressAction = .none
    public var triplePress: PressAction = .none

    public init() {}
}

/// Every timing of the plug, with the spec's defaults.
public struct PlugTimings: Sendable, Equatable {
    /// The button's gesture timings.
    public var button = ButtonTimings()
    /// How long "reset complete" (solid blue) is shown after a factory reset.
    public var resetCompleteShown: Duration = .seconds(3)
    /// The shortest time the "factory reset running" flashing is shown, so a user sees it even
    /// when wiping the state directory takes a few milliseconds.
    public var factoryResetMinimumShown: Duration = .seconds(1)
    /// Setup mode ends by itself after this long.
    public var setupTimeout: Duration = .seconds(300)
    /// How long the LED blinks green after an `identify` command.
    public var identifyShown: Duration = .seconds(5)
    /// Whether the LED shows "broker unreachable" (red, 1 Hz) while an MQTT broker is configured
    /// but not connected.
    public var showBrokerUnreachable = true
    /// The relay flood guard: at most this many relay changes in any `relayChangeWindow`
    /// (`RelayFloodGuard`); a zero window turns it off.
    public var relayMaxChanges = 5
    public var relayChangeWindow: Duration = .seconds(3)
    /// `[relay] auto_off`: every time the relay turns on, it turns off after this long (a
    /// countdown, `Countdown.auto`); `nil` = never.
    public var autoOff: Duration?
    /// `[relay] auto_on`: every time the relay turns off, it turns on after this long.
    public var autoOn: Duration?

    public init() {}
}
