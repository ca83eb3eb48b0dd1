/// Every journal event plugd writes, one case each: its `PLUG_EVENT=` value, and for the key
/// events the `MESSAGE_ID` of their entry in `systemd/plugd.catalog` (`journalctl -x` shows the
/// catalog's text). A new event is a new case here; a `MESSAGE_ID` never changes once shipped.
public enum EventName: String, Sendable, CaseIterable {
    // The plug: button gestures, relay, modes, resets (PlugMachine)
    case buttonIgnored = "button_ignored"
    case buttonPress = "button_press"
    case commandRejected = "command_rejected"
    case deregistered
    case factoryResetComplete = "factory_reset_complete"
    case factoryResetFailed = "factory_reset_failed"
    case factoryResetStarted = "factory_reset_started"
    case fault
    case faultCleared = "fault_cleared"
    case holdFactory = "hold_factory"
    case holdSetup = "hold_setup"
    case holdVoided = "hold_voided"
    case identify
    case ignoredPressReleased = "ignored_press_released"
    case relay
    case relayFlood = "relay_flood"
    case setupComplete = "setup_complete"
    case setupMode = "setup_mode"
    case setupTimeout = "setup_timeout"
    case shortPress = "short_press"
    case simpleReset = "simple_reset"
    case startupHold = "startup_hold"
    case startupHoldArmed = "startup_hold_armed"
    case startupHoldReleased = "startup_hold_released"
    case stuckButton = "stuck_button"
    case stuckButtonReleased = "stuck_button_released"
    case timerCancelled = "timer_cancelled"
    case timerFired = "timer_fired"
    case timerLapsed = "timer_lapsed"
    case timerStarted = "timer_started"
    // Schedules (Scheduler, PlugMachine)
    case scheduleClockSynchronized = "schedule_clock_synchronized"
    case scheduleFired = "schedule_fired"
    case scheduleMissed = "schedule_missed"
    case scheduleWaiting = "schedule_waiting"
    // The state directory and the board (PlugRuntime, StateStore)
    case stateBound = "state_bound"
    case stateCloned = "state_cloned"
    case stateCorrupt = "state_corrupt"
    case stateCreated = "state_created"
    // GPIO
    case gpioBackend = "gpio_backend"
    case gpioChip = "gpio_chip"
    case gpioError = "gpio_error"
    case relayAdopted = "relay_adopted"
    case relayNotAdopted = "relay_not_adopted"
    // MQTT
    case mqttCommand = "mqtt_command"
    case mqttCommandIgnored = "mqtt_command_ignored"
    case mqttCommandInvalid = "mqtt_command_invalid"
    case mqttConnected = "mqtt_connected"
    case mqttDisconnected = "mqtt_disconnected"
    case mqttDiscovery = "mqtt_discovery"
    case mqttDiscoveryRemoved = "mqtt_discovery_removed"
    case mqttForgetPending = "mqtt_forget_pending"
    case mqttForgotten = "mqtt_forgotten"
    case mqttIdentityConflict = "mqtt_identity_conflict"
    case mqttPayloadTooLarge = "mqtt_payload_too_large"
    case mqttProtocol = "mqtt_protocol"
    case mqttPublishFailed = "mqtt_publish_failed"
    case mqttPublishRefused = "mqtt_publish_refused"
    case mqttSubscribeFailed = "mqtt_subscribe_failed"
    case mqttSubscribeRefused = "mqtt_subscribe_refused"
    case mqttTakenOver = "mqtt_taken_over"
    case mqttUnavailable = "mqtt_unavailable"
    case mqttUnreachable = "mqtt_unreachable"
    // The journal itself
    case logSuppressed = "log_suppressed"
    case watchSkipped = "watch_skipped"
    // The daemon
    case started

    /// The catalog's `MESSAGE_ID` for this event, if it has an entry.
    public var messageID: String? {
        switch self {
        case .deregistered: "af4937b583ee41df9ed62b1806f3c7c6"
        case .factoryResetComplete: "9d94f66632324c17a18ead208b6867b8"
        case .factoryResetFailed: "6ba536b2ffa54200afd4bb1aea5ba93b"
        case .factoryResetStarted: "a729d6a2f0a04608b185d9243ec87f4e"
        case .fault: "074e0106c1bb428b95bec4f6e0e2c955"
        case .logSuppressed: "76ea51d962374719a054f4af5cae7ed2"
        case .mqttDisconnected: "5ed737809d974dc794bca694ff2cb809"
        case .mqttForgetPending: "ba42dadecba54cf495cf7022ce7fc494"
        case .mqttIdentityConflict: "ce9cb58cdf884fbd855d8d1d3485a7ca"
        case .mqttPayloadTooLarge: "b90ca9716a9847ba9ea3ddf408cc3a36"
        case .mqttPublishRefused: "f2ff8a651af94c11ab0dc37422de28cb"
        case .mqttUnavailable: "9dc63af202ee477b9a1da175fa41d0fe"
        case .mqttUnreachable: "ab56170a1ce54097824139f62b8e3f8f"
        case .relayAdopted: "80991dcb43624f80aa8ea60ce62e8f0e"
        case .relayFlood: "4f1ea31bd6bd459a82778a5f23646795"
        case .relayNotAdopted: "bb486f2c2a08434a9686b00490f05b55"
        case .scheduleFired: "ab9923b63e8e4d7982f7e19072a39f4b"
        case .scheduleMissed: "3cd3073d0bf14a9fa593cd5ac5098d78"
        case .scheduleWaiting: "1a25a25f4f254ec089964c9dd430a8c5"
        case .simpleReset: "8cec77fd43e74e0fb2858c628f82ecc4"
        case .started: "670d187110394391b7e555448f684f4c"
        case .stateCloned: "1106b6037fac47c9874fe6493cf76001"
        case .stateCorrupt: "aa99c35ef1bf4461ad530027cf1d70da"
        case .stuckButton: "b126dbd571ca478eb71a4b96ec80e0fc"
        case .timerCancelled: "416bae9fb34b44b2a7e43b5a61c5f739"
        case .timerFired: "b78e45afd2554745ab439a19921416b8"
        case .timerLapsed: "62236ff9b91a48acb2d04d452990d8e0"
        default: nil
        }
    }
}

/// Every structured field an event may carry besides `PLUG_EVENT`, one case each: the journal
/// field's name (`journalctl -u plugd PLUG_RELAY=on`). Each is a valid journal field name as it
/// stands (capitals, digits and `_`), which `EventFieldTests` checks.
public enum EventField: String, Sendable, CaseIterable, Comparable {
    case board = "PLUG_BOARD"
    case broker = "PLUG_BROKER"
    case bytes = "PLUG_BYTES"
    case chip = "PLUG_CHIP"
    case chipLabel = "PLUG_CHIP_LABEL"
    case clientId = "PLUG_CLIENT_ID"
    case collapsed = "PLUG_COLLAPSED"
    case copiedBoard = "PLUG_COPIED_BOARD"
    case copiedIdentity = "PLUG_COPIED_IDENTITY"
    case countdownS = "PLUG_COUNTDOWN_S"
    case debounce = "PLUG_DEBOUNCE"
    case file = "PLUG_FILE"
    case gpiod = "PLUG_GPIOD"
    case holdMs = "PLUG_HOLD_MS"
    case missed = "PLUG_MISSED"
    case schedule = "PLUG_SCHEDULE"
    case identity = "PLUG_IDENTITY"
    case payload = "PLUG_PAYLOAD"
    case pending = "PLUG_PENDING"
    case policy = "PLUG_POLICY"
    case presses = "PLUG_PRESSES"
    case reason = "PLUG_REASON"
    case relay = "PLUG_RELAY"
    case relayHeld = "PLUG_RELAY_HELD"
    case resetPending = "PLUG_RESET_PENDING"
    case skipped = "PLUG_SKIPPED"
    case source = "PLUG_SOURCE"
    case suppressed = "PLUG_SUPPRESSED"
    case suppressedEvent = "PLUG_SUPPRESSED_EVENT"
    case takeovers = "PLUG_TAKEOVERS"
    case topic = "PLUG_TOPIC"

    public static func < (a: EventField, b: EventField) -> Bool { a.rawValue < b.rawValue }
}
