import PlugCore
import PlugMQTT
import PlugProtocol

extension PlugRuntime {
    /// The plug's status at `now`, as `plugctl status` shows it.
    public func status(at now: MonotonicInstant) -> PlugStatus {
        let m = machine
        return PlugStatus(
            relay: m.relayOn ? "on" : "off", led: (shownColor ?? .off).rawValue,
            ledPattern: m.led(at: now).description, mode: modeName, name: m.state.name,
            identity: m.state.identity.uuidString, registered: m.state.registered,
            fault: m.fault == nil ? nil : Self.faultText, buttonHeld: m.hold != nil,
            broker: m.brokerConnected.map { $0 ? "connected" : "unreachable" },
            relayPending: m.flood.pending.map { p in
                let wait = m.flood.roomAt.map { now.duration(to: $0).milliseconds } ?? 0
                return "\(p.level ? "on" : "off") in \(wait) ms (flood guard: \(m.flood.limit) changes per \(m.flood.window.milliseconds) ms)"
            },
            timer: m.countdown.map { "\($0.level ? "on" : "off") in \(Countdown.text(now.duration(to: $0.due)))\($0.auto ? " (\($0.title.lowercased()))" : "")" },
            schedule: schedules.map { $0.upcoming(Self.upcomingShown) })
    }

    /// One line for systemd's `STATUS=` (what `systemctl status plugd` shows): relay, LED, mode
    /// and fault. Built directly, not through `status(at:)`: the loop asks for it at every wake.
    public func statusLine(at now: MonotonicInstant) -> String {
        var line = "relay \(machine.relayOn ? "on" : "off"), LED \(machine.led(at: now)), \(modeName)"
        if machine.fault != nil { line += ", FAULT: \(Self.faultText)" }
        if machine.brokerConnected == false { line += ", MQTT broker unreachable" }
        if let c = machine.countdown { line += ", countdown to \(c.level ? "on" : "off")" }
        return line
    }

    /// Everything `statusLine(at:)` says, cheap to compare: the loop builds the line only when
    /// this changes (building it at every wake cost about a tenth of a press's instructions).
    public struct StatusKey: Equatable, Sendable {
        var relayOn: Bool
        var led: LEDPattern
        var mode: PlugMachine.Mode
        var fault: Bool
        var brokerConnected: Bool?
        var countdown: Countdown?
    }

    /// The status line's content at `now`.
    public func statusKey(at now: MonotonicInstant) -> StatusKey {
        StatusKey(
            relayOn: machine.relayOn, led: machine.led(at: now), mode: machine.mode, fault: machine.fault != nil,
            brokerConnected: machine.brokerConnected, countdown: machine.countdown)
    }

    /// What the MQTT client reports about the plug at `now`, when the wall clock reads `unixNow`.
    /// A countdown's report is made once per countdown, so the snapshot changes only when the
    /// plug does, not as time passes.
    public func snapshot(at now: MonotonicInstant, unixNow: Duration) -> PlugSnapshot {
        var report: CountdownReport?
        if let c = machine.countdown {
            if let (reported, r) = countdownReported, reported == c {
                report = r
            } else {
                report = CountdownReport(c, now: now, unixNow: unixNow)
                countdownReported = (c, report!)
            }
        }
        return PlugSnapshot(machine.state, relayOn: machine.relayOn, countdown: report)
    }

    static let faultText = "state cannot be written"
    /// How many of the schedules' next runs the status lists.
    static let upcomingShown = 10

    private var modeName: String {
        switch machine.mode {
        case .normal: "normal"
        case .setup: "setup"
        case .factoryResetting: "factory-reset"
        case .resetComplete: "reset-complete"
        }
    }
}
