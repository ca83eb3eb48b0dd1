#if canImport(Glibc)
import Glibc
#endif
import PlugCore

/// Selects a line on a chip: by offset, or by the line's name (libgpiod's find-by-name).
public enum LineSelector: Sendable, Equatable, CustomStringConvertible {
    case offset(UInt32)
    case name(String)

    public var description: String {
        switch self {
        case .offset(let o): "\(o)"
        case .name(let n): "\"\(n)\""
        }
    }
}

/// One GPIO line as the wiring names it: chip (path, name or label), line, and polarity.
public struct LineSpec: Sendable, Equatable, CustomStringConvertible {
    /// The chip: `/dev/gpiochip0`, `gpiochip0`, a label such as `pinctrl-bcm2711`, or
    /// `RaspberryPiHeader.auto` until `Wiring.choosingHeaderChip(_:)` replaces it.
    public var chip: String
    /// The line on that chip.
    public var line: LineSelector
    /// The line is active when low (active-low relay boards, common-anode LEDs, button to ground).
    public var activeLow: Bool

    public init(chip: String, line: LineSelector, activeLow: Bool = false) {
        self.chip = chip
        self.line = line
        self.activeLow = activeLow
    }

    public var description: String {
        let chip = chip == RaspberryPiHeader.auto ? "the Pi header's chip (auto)" : chip
        return "\(chip) line \(line)\(activeLow ? " (active-low)" : "")"
    }
}

/// The bias of an input line.
public enum Bias: String, Sendable, Equatable, CaseIterable {
    case pullUp = "pull-up", pullDown = "pull-down", disabled, asIs = "as-is"
}

/// Why a line could not be requested or used. Every case names the line or chip.
public enum GPIOError: Error, Equatable, CustomStringConvertible {
    case chipNotFound(String)
    case lineNotFound(chip: String, line: String)
    case lineBusy(String)
    case permissionDenied(String)
    case io(String)
    /// `chip = "auto"` found no Raspberry Pi header controller among these chips.
    case headerChipNotFound([String])
    /// `chip = "auto"` found several header controllers.
    case headerChipAmbiguous([String])

    public var description: String {
        switch self {
        case .chipNotFound(let c): "GPIO chip \(c) not found"
        case .lineNotFound(let c, let l): "GPIO line \(l) not found on chip \(c)"
        case .lineBusy(let l): "GPIO line \(l) is busy (held by another process)"
        case .permissionDenied(let what): "permission denied opening \(what) (is the user in group plugd, or gpio on Raspberry Pi OS? see udev/)"
        case .io(let what): "GPIO I/O error: \(what)"
        case .headerChipNotFound(let chips):
            """
            no Raspberry Pi header GPIO chip found (labels \(RaspberryPiHeader.labels)); \
            chips present: \(chips.isEmpty ? "none" : chips.joined(separator: ", ")). \
            Set gpio.chip in the config to the chip the relay, button and LED are on
            """
        case .headerChipAmbiguous(let chips):
            "several Raspberry Pi header GPIO chips found (\(chips.joined(separator: ", "))); set gpio.chip in the config to one of them"
        }
    }
}

/// A requested output line, held until released. `set(_:)` takes the logical level: the
/// backend applies active-low.
public protocol OutputLine: AnyObject, Sendable {
    /// Drives the line to the logical level.
    func set(_ active: Bool) throws
    /// Gives the line back to the kernel (the line stays held while a `LineKeeper` keeps a copy).
    func release()
    /// The request behind this line, for a `LineKeeper`; nil when the backend cannot hand it out.
    var keepable: KeptRequest? { get }
}

extension OutputLine {
    public var keepable: KeptRequest? { nil }
}

/// Output lines requested together and set together: the LED's red, green and blue. Where the
/// backend can (lines on one chip), `set(_:)` changes them in one operation, so a colour change
/// never passes through another colour.
public protocol OutputGroup: AnyObject, Sendable {
    /// Drives every line to its logical level, in the order requested.
    func set(_ values: [Bool]) throws
    /// Gives the lines back to the kernel.
    func release()
}

/// A button edge: the logical level after it (`pressed`) and the kernel's timestamp.
public struct ButtonEdge: Sendable, Equatable {
    public var pressed: Bool
    public var timestamp: MonotonicInstant

    public init(pressed: Bool, timestamp: MonotonicInstant) {
        self.pressed = pressed
        self.timestamp = timestamp
    }
}

/// A requested input line watched for both edges. Its edges are read on the thread that polls
/// `eventFD`, so a daemon sleeps in one `poll()` for the button and everything else: no thread
/// of the backend's, no hand-over between threads for each edge.
public protocol ButtonLine: AnyObject, Sendable {
    /// The current logical level (true = pressed).
    func isPressed() throws -> Bool
    /// Readable (`POLLIN`) while edges wait to be read; `POLLHUP` or `POLLERR` once the line is
    /// gone. Edges that happened before anyone polls are kept, as the kernel keeps them.
    var eventFD: Int32 { get }
    /// The edges waiting, oldest first, with their kernel timestamps: call it when `eventFD` is
    /// readable (it may block otherwise). `nil` once the line is gone or released.
    func readEdges() -> [ButtonEdge]?
    /// Gives the line back. Nothing may poll `eventFD` any more.
    func release()
    /// The debounce period the kernel applies to this line's edges, if it does (libgpiod v2's
    /// `debounce_period_us`); then the edges are already clean and the plug need not wait again.
    var kernelDebounce: Duration? { get }
}

extension ButtonLine {
    /// No kernel debounce unless a backend says so: the plug debounces in software.
    public var kernelDebounce: Duration? { nil }
}

/// A source of GPIO lines: libgpiod on real hardware, `SimulatedGPIO` in tests and
/// `plugd --simulate`.
public protocol GPIOBackend: Sendable {
    /// Requests `spec` as an output whose initial logical level is `initial`, set in the request
    /// itself so the line never glitches.
    func requestOutput(_ spec: LineSpec, initial: Bool, consumer: String) throws -> any OutputLine
    /// Requests `specs` as outputs set together, with `initial` logical levels.
    func requestOutputs(_ specs: [LineSpec], initial: [Bool], consumer: String) throws -> any OutputGroup
    /// Requests `spec` as an input with `bias` and both-edge events.
    func requestButton(_ spec: LineSpec, bias: Bias, consumer: String) throws -> any ButtonLine
    /// The GPIO chips present, with their labels.
    func chips() throws -> GPIOChipListing
    /// Takes over `kept`, a request made by an earlier run and kept across its restart, if it is
    /// a request for `spec` alone, as an output, with its polarity; the line keeps its level.
    /// Throws `AdoptionRefused` otherwise (the caller gives the request up and asks anew).
    func adoptOutput(_ spec: LineSpec, from kept: KeptRequest) throws -> AdoptedOutput
    /// Closes this process's handle on a kept request it did not take over.
    func discard(_ kept: KeptRequest)
}

extension GPIOBackend {
    /// Backends that cannot hand out their requests cannot take one over either.
    public func adoptOutput(_ spec: LineSpec, from kept: KeptRequest) throws -> AdoptedOutput {
        throw AdoptionRefused("this GPIO backend cannot take over a kept line request")
    }

    /// A kept request is a file descriptor: close it.
    public func discard(_ kept: KeptRequest) { _ = close(kept.fd) }

    /// By default, lines are requested and set one by one (`requestSeparateOutputs`).
    public func requestOutputs(_ specs: [LineSpec], initial: [Bool], consumer: String) throws -> any OutputGroup {
        try requestSeparateOutputs(specs, initial: initial, consumer: consumer)
    }

    /// One request per line, set one after another. If a request fails, the lines already taken
    /// are released.
    public func requestSeparateOutputs(_ specs: [LineSpec], initial: [Bool], consumer: String) throws -> any OutputGroup {
        var taken: [any OutputLine] = []
        do {
            for (spec, value) in zip(specs, initial) {
                taken.append(try requestOutput(spec, initial: value, consumer: consumer))
            }
        } catch {
            taken.forEach { $0.release() }
            throw error
        }
        return SeparateOutputs(lines: taken)
    }
}

/// An `OutputGroup` made of separately requested lines.
final class SeparateOutputs: OutputGroup {
    let lines: [any OutputLine]
    init(lines: [any OutputLine]) { self.lines = lines }
    func set(_ values: [Bool]) throws { for (line, v) in zip(lines, values) { try line.set(v) } }
    func release() { lines.forEach { $0.release() } }
}
