/// A colour of the RGB LED. Orange is red+green; white is all three.
public enum LEDColor: String, Sendable, Equatable, CaseIterable, Codable {
    case off, red, green, blue, orange, white

    /// Which of the red, green and blue lines are lit for this colour.
    public var lines: (red: Bool, green: Bool, blue: Bool) {
        switch self {
        case .off: (false, false, false)
        case .red: (true, false, false)
        case .green: (false, true, false)
        case .blue: (false, false, true)
        case .orange: (true, true, false)
        case .white: (true, true, true)
        }
    }

    /// The colour shown by the given red, green and blue line levels, if it is one of ours.
    public init?(red: Bool, green: Bool, blue: Bool) {
        guard let c = LEDColor.allCases.first(where: { $0.lines == (red, green, blue) }) else { return nil }
        self = c
    }
}

/// What the LED shows over time: a solid colour, or a colour blinking on/off from an anchor,
/// forever or a fixed number of times.
public struct LEDPattern: Equatable, Sendable, CustomStringConvertible {
    /// The lit colour.
    public var color: LEDColor
    /// `nil` for a solid colour; otherwise the lit and dark phases.
    public var blink: (on: Duration, off: Duration)?
    /// The instant the first lit phase starts.
    public var anchor: MonotonicInstant
    /// How many flashes a finite pattern shows; `nil` blinks forever.
    public var count: Int?

    /// A steady colour (`.off` is a dark LED).
    public static func solid(_ color: LEDColor) -> LEDPattern {
        LEDPattern(color: color, blink: nil, anchor: .zero, count: nil)
    }

    /// `color` blinking at `hertz` with a 50 % duty cycle, lit first at `since`.
    public static func blinking(_ color: LEDColor, hertz: Int, since: MonotonicInstant) -> LEDPattern {
        let half = Duration.nanoseconds(500_000_000 / Int64(hertz))
        return LEDPattern(color: color, blink: (half, half), anchor: since, count: nil)
    }

    /// `count` flashes of `color`, lit `on` then dark `off`, starting at `since`.
    public static func flashes(
        _ color: LEDColor, count: Int, on: Duration, off: Duration,
        since: MonotonicInstant
    ) -> LEDPattern {
        LEDPattern(color: color, blink: (on, off), anchor: since, count: count)
    }

    /// When a finite pattern has finished; `nil` for a solid or endless one.
    public var end: MonotonicInstant? {
        guard let blink, let count else { return nil }
        return anchor.advanced(by: (blink.on + blink.off) * count)
    }

    /// The colour shown at `now` (a finished finite pattern shows `.off`).
    public func color(at now: MonotonicInstant) -> LEDColor {
        guard let blink else { return color }
        let period = (blink.on + blink.off).nanoseconds
        let elapsed = anchor.duration(to: now).nanoseconds
        if elapsed < 0 { return .off }
        if let count, elapsed >= period * Int64(count) { return .off }
        return elapsed % period < blink.on.nanoseconds ? color : .off
    }

    /// The first instant after `now` at which the shown colour changes (or a finite pattern
    /// ends); `nil` when it never changes — a solid LED needs no timer.
    public func nextChange(after now: MonotonicInstant) -> MonotonicInstant? {
        guard let blink else { return nil }
        let period = (blink.on + blink.off).nanoseconds
        let elapsed = anchor.duration(to: now).nanoseconds
        if elapsed < 0 { return anchor }
        if let count, elapsed >= period * Int64(count) { return nil }
        let cycleStart = elapsed - elapsed % period
        let inCycle = elapsed % period
        let next = inCycle < blink.on.nanoseconds ? cycleStart + blink.on.nanoseconds : cycleStart + period
        return anchor.advanced(by: .nanoseconds(next))
    }

    public static func == (a: LEDPattern, b: LEDPattern) -> Bool {
        a.color == b.color && a.blink?.on == b.blink?.on && a.blink?.off == b.blink?.off
            && (a.blink == nil || a.anchor == b.anchor) && a.count == b.count
    }

    public var description: String {
        guard let blink else { return "solid \(color.rawValue)" }
        let hz = 1_000_000_000 / (blink.on + blink.off).nanoseconds
        if let count { return "\(count)× \(color.rawValue) flashes" }
        return "\(color.rawValue) blinking \(hz) Hz"
    }
}
