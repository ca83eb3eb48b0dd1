import PlugCore
import PlugPOSIX
import Synchronization

/// An in-memory GPIO backend with the semantics of the kernel's: chips with named lines, lines
/// found by offset or name, one holder per line (a second request is `lineBusy`), active-low
/// applied on the physical level, and button edges stamped by an injected clock.
///
/// Tests read physical levels with `level(chip:offset:)`; `press()`/`release()` drive the button
/// as a finger (or a bouncing contact) would.
public final class SimulatedGPIO: GPIOBackend, Sendable {
    /// The default chip: `gpiosim` with lines relay, button, led_r, led_g, led_b.
    public static let standardChip = (name: "gpiosim", lines: ["relay", "button", "led_r", "led_g", "led_b"])

    struct Line {
        var name: String
        var physical: Bool = false
        /// Something (a finger, `preset`) has set the level; otherwise an input reads its bias.
        var driven = false
        var holder: String?
        var activeLow = false
        var watcher: EdgeOutlet?
    }
    /// An output request, as the kernel keeps one: its line, and how many handles (this
    /// process's, a keeper's) hold it open. The line is released when the last one closes.
    struct Request {
        var chip: String
        var index: Int
        var activeLow: Bool
        var handles: Int
    }
    struct State {
        var chips: [String: [Line]]
        var onChange: (@Sendable () -> Void)?
        var requests: [Int32: Request] = [:]
        var nextHandle: Int32 = 100
        /// How often each line's physical level changed, by "chip/line" (tests count the relay's).
        var changes: [String: Int] = [:]
    }
    private let state: Mutex<State>
    private let now: @Sendable () -> MonotonicInstant
    private let kernelDebounce: Duration?

    /// Creates chips with the given line names; `now` stamps button edges. With `kernelDebounce`
    /// the button says the kernel debounces it, as libgpiod v2 lines do (the simulated edges
    /// are passed on as they are: a test then sends clean ones).
    public init(
        chips: [String: [String]] = [standardChip.name: standardChip.lines], kernelDebounce: Duration? = nil,
        now: @escaping @Sendable () -> MonotonicInstant
    ) {
        self.kernelDebounce = kernelDebounce
        // An unheld input with a pull-up reads high: the button's released level.
        state = Mutex(State(chips: chips.mapValues { $0.map { Line(name: $0) } }, onChange: nil))
        self.now = now
    }

    /// Called (on the caller's thread) after any line changes: the terminal simulator redraws.
    public func setOnChange(_ callback: (@Sendable () -> Void)?) {
        state.withLock { $0.onChange = callback }
    }

    /// The physical level of a line.
    public func level(chip: String = standardChip.name, line name: String) -> Bool {
        state.withLock { s in s.chips[chip]?.first { $0.name == name }?.physical ?? false }
    }

    /// The logical LED colour shown on the standard chip's LED lines.
    public func ledColor(chip: String = standardChip.name) -> LEDColor? {
        LEDColor(
            red: level(chip: chip, line: "led_r"), green: level(chip: chip, line: "led_g"),
            blue: level(chip: chip, line: "led_b"))
    }

    /// Whether a line is held by a requester.
    public func isHeld(chip: String = standardChip.name, line name: String) -> Bool {
        state.withLock { s in s.chips[chip]?.first { $0.name == name }?.holder != nil }
    }

    /// Marks a line as held by another process, so requesting it fails with `lineBusy`.
    public func holdElsewhere(chip: String = standardChip.name, line name: String) {
        state.withLock { s in
            if let i = s.chips[chip]?.firstIndex(where: { $0.name == name }) { s.chips[chip]![i].holder = "other" }
        }
    }

    /// Presses the button (a finger closing the contact), at the clock's now unless `at` is given.
    public func press(chip: String = standardChip.name, line: String = "button", at: MonotonicInstant? = nil) {
        drive(chip: chip, line: line, pressed: true, at: at ?? now())
    }

    /// Releases the button.
    public func release(chip: String = standardChip.name, line: String = "button", at: MonotonicInstant? = nil) {
        drive(chip: chip, line: line, pressed: false, at: at ?? now())
    }

    private func drive(chip: String, line name: String, pressed: Bool, at time: MonotonicInstant) {
        let (watcher, callback): (EdgeOutlet?, (@Sendable () -> Void)?) = state.withLock { s in
            guard let i = s.chips[chip]?.firstIndex(where: { $0.name == name }) else { return (nil, nil) }
            var l = s.chips[chip]![i]
            let physical = pressed != l.activeLow
            l.driven = true
            guard physical != l.physical else { s.chips[chip]![i] = l; return (nil, nil) }
            l.physical = physical
            s.chips[chip]![i] = l
            return (l.watcher, s.onChange)
        }
        watcher?.send(ButtonEdge(pressed: pressed, timestamp: time))
        callback?()
    }

    private func take(_ spec: LineSpec, consumer: String, activeLow: Bool) throws -> Int {
        try state.withLock { s in
            guard let lines = s.chips[spec.chip] else { throw GPIOError.chipNotFound(spec.chip) }
            let index: Int?
            switch spec.line {
            case .offset(let o): index = Int(o) < lines.count ? Int(o) : nil
            case .name(let n): index = lines.firstIndex { $0.name == n }
            }
            guard let index else { throw GPIOError.lineNotFound(chip: spec.chip, line: spec.line.description) }
            guard lines[index].holder == nil else { throw GPIOError.lineBusy(spec.description) }
            s.chips[spec.chip]![index].holder = consumer
            s.chips[spec.chip]![index].activeLow = activeLow
            return index
        }
    }

    fileprivate func physical(chip: String, index: Int) -> Bool {
        state.withLock { $0.chips[chip]![index].physical }
    }

    fileprivate func free(chip: String, index: Int) {
        let watcher = state.withLock { s -> EdgeOutlet? in
            let w = s.chips[chip]![index].watcher
            s.chips[chip]![index].holder = nil
            s.chips[chip]![index].watcher = nil
            return w
        }
        watcher?.end()
    }

    /// A single output is a request with a handle of its own, which a `SimulatedLineKeeper` can
    /// keep and a later `adoptOutput` take over, as the kernel's request file descriptors.
    public func requestOutput(_ spec: LineSpec, initial: Bool, consumer: String) throws -> any OutputLine {
        let index = try take(spec, consumer: consumer, activeLow: spec.activeLow)
        setPhysical([(spec.chip, index, initial != spec.activeLow)])
        let handle = state.withLock { s in
            defer { s.nextHandle += 1 }
            s.requests[s.nextHandle] = Request(chip: spec.chip, index: index, activeLow: spec.activeLow, handles: 1)
            return s.nextHandle
        }
        return SimOutput(gpio: self, chip: spec.chip, index: index, activeLow: spec.activeLow, handle: handle)
    }

    public func adoptOutput(_ spec: LineSpec, from kept: KeptRequest) throws -> AdoptedOutput {
        let request = try state.withLock { s -> Request in
            guard let r = s.requests[kept.fd] else { throw AdoptionRefused("\(kept) is not a line request") }
            let names = s.chips[r.chip]?.map(\.name) ?? []
            let wanted: Int? =
                switch spec.line {
                case .offset(let o): Int(o) < names.count ? Int(o) : nil
                case .name(let n): names.firstIndex(of: n)
                }
            guard spec.chip == r.chip, wanted == r.index else {
                throw AdoptionRefused("the kept request holds \(r.chip) line \(r.index), the config says \(spec)")
            }
            guard spec.activeLow == r.activeLow else { throw AdoptionRefused("the kept request's polarity differs from the config's") }
            return r
        }
        let line = SimOutput(gpio: self, chip: request.chip, index: request.index, activeLow: request.activeLow, handle: kept.fd)
        return AdoptedOutput(line: line, level: physical(chip: request.chip, index: request.index) != request.activeLow)
    }

    public func discard(_ kept: KeptRequest) { closeHandle(kept.fd) }

    /// Another handle on a request (a keeper's copy, or the one handed to the next run); false
    /// if the request is gone.
    func openHandle(_ handle: Int32) -> Bool {
        state.withLock { s in
            guard s.requests[handle] != nil else { return false }
            s.requests[handle]!.handles += 1
            return true
        }
    }

    /// Closes one handle on a request; the last one releases the line, which falls back to low
    /// (as a released gpio-sim line falls to its pull-down).
    func closeHandle(_ handle: Int32) {
        let released = state.withLock { s -> Request? in
            guard var r = s.requests[handle] else { return nil }
            r.handles -= 1
            s.requests[handle] = r.handles > 0 ? r : nil
            return r.handles > 0 ? nil : r
        }
        guard let released else { return }
        free(chip: released.chip, index: released.index)
        setPhysical([(released.chip, released.index, false)])
    }

    /// How many times a line's physical level has changed since the chip was made.
    public func changes(chip: String = standardChip.name, line name: String) -> Int {
        state.withLock { $0.changes["\(chip)/\(name)", default: 0] }
    }

    /// Lines set together change under one lock, as one bulk set does in the kernel.
    public func requestOutputs(_ specs: [LineSpec], initial: [Bool], consumer: String) throws -> any OutputGroup {
        var taken: [(chip: String, index: Int, activeLow: Bool)] = []
        do {
            for spec in specs { taken.append((spec.chip, try take(spec, consumer: consumer, activeLow: spec.activeLow), spec.activeLow)) }
        } catch {
            taken.forEach { free(chip: $0.chip, index: $0.index) }
            throw error
        }
        let group = SimOutputGroup(gpio: self, lines: taken)
        try group.set(initial)
        return group
    }

    /// Sets physical levels under one lock, then tells the watcher once if anything changed.
    fileprivate func setPhysical(_ lines: [(chip: String, index: Int, level: Bool)]) {
        let callback = state.withLock { s -> (@Sendable () -> Void)? in
            var changed = false
            for l in lines where s.chips[l.chip]![l.index].physical != l.level {
                s.chips[l.chip]![l.index].physical = l.level
                s.changes["\(l.chip)/\(s.chips[l.chip]![l.index].name)", default: 0] += 1
                changed = true
            }
            return changed ? s.onChange : nil
        }
        callback?()
    }

    /// The chips, by name; a simulated chip's label is its name.
    public func chips() -> GPIOChipListing {
        state.withLock { s in
            GPIOChipListing(chips: s.chips.keys.sorted().map { GPIOChipInfo(name: $0, label: $0, lines: s.chips[$0]!.count) })
        }
    }

    public func requestButton(_ spec: LineSpec, bias: Bias, consumer: String) throws -> any ButtonLine {
        let index = try take(spec, consumer: consumer, activeLow: spec.activeLow)
        // An open contact reads its bias level; pull-up with an active-low button = released.
        let outlet = EdgeOutlet()
        state.withLock { s in
            s.chips[spec.chip]![index].watcher = outlet
            if !s.chips[spec.chip]![index].driven {
                switch bias {
                case .pullUp: s.chips[spec.chip]![index].physical = true
                case .pullDown: s.chips[spec.chip]![index].physical = false
                case .disabled, .asIs: break
                }
            }
        }
        return SimButton(
            gpio: self, chip: spec.chip, index: index, activeLow: spec.activeLow, outlet: outlet,
            kernelDebounce: kernelDebounce)
    }

    /// Sets a button's physical level before it is requested (e.g. held at start-up).
    public func preset(chip: String = standardChip.name, line name: String, physical: Bool) {
        state.withLock { s in
            if let i = s.chips[chip]?.firstIndex(where: { $0.name == name }) {
                s.chips[chip]![i].physical = physical
                s.chips[chip]![i].driven = true
            }
        }
    }
}

private final class SimOutput: OutputLine {
    let gpio: SimulatedGPIO, chip: String, index: Int, activeLow: Bool, handle: Int32
    private let released = Atomic<Bool>(false)
    init(gpio: SimulatedGPIO, chip: String, index: Int, activeLow: Bool, handle: Int32) {
        self.gpio = gpio; self.chip = chip; self.index = index; self.activeLow = activeLow; self.handle = handle
    }
    func set(_ active: Bool) throws {
        guard !released.load(ordering: .acquiring) else { throw GPIOError.io("\(chip) line \(index) was released") }
        gpio.setPhysical([(chip, index, active != activeLow)])
    }
    var keepable: KeptRequest? { released.load(ordering: .acquiring) ? nil : KeptRequest(fd: handle) }
    func release() {
        guard !released.exchange(true, ordering: .acquiringAndReleasing) else { return }
        gpio.closeHandle(handle)
    }
}

private final class SimOutputGroup: OutputGroup {
    let gpio: SimulatedGPIO
    let lines: [(chip: String, index: Int, activeLow: Bool)]
    init(gpio: SimulatedGPIO, lines: [(chip: String, index: Int, activeLow: Bool)]) {
        self.gpio = gpio; self.lines = lines
    }
    func set(_ values: [Bool]) throws {
        gpio.setPhysical(zip(lines, values).map { ($0.chip, $0.index, $1 != $0.activeLow) })
    }
    func release() { lines.forEach { gpio.free(chip: $0.chip, index: $0.index) } }
}

private final class SimButton: ButtonLine {
    let gpio: SimulatedGPIO, chip: String, index: Int, activeLow: Bool
    let outlet: EdgeOutlet
    let kernelDebounce: Duration?
    init(gpio: SimulatedGPIO, chip: String, index: Int, activeLow: Bool, outlet: EdgeOutlet, kernelDebounce: Duration?) {
        self.gpio = gpio; self.chip = chip; self.index = index; self.activeLow = activeLow; self.outlet = outlet
        self.kernelDebounce = kernelDebounce
    }
    func isPressed() throws -> Bool { gpio.physical(chip: chip, index: index) != activeLow }
    var eventFD: Int32 { outlet.fd }
    func readEdges() -> [ButtonEdge]? { outlet.take() }
    func release() { gpio.free(chip: chip, index: index) }
}

/// A simulated input's edges, queued as the kernel queues a real line's until they are read;
/// `fd` is readable while some wait, and once the line is released (`end()`).
final class EdgeOutlet: Sendable {
    private struct State {
        var kept: [ButtonEdge] = []
        var ended = false
    }
    private let state = Mutex(State())
    private let pipe = WakePipe()

    var fd: Int32 { pipe.fd }

    func send(_ edge: ButtonEdge) {
        let queued = state.withLock { s in
            guard !s.ended else { return false }
            s.kept.append(edge)
            return true
        }
        if queued { pipe.wake() }
    }

    func end() {
        state.withLock { $0.ended = true }
        pipe.wake()
    }

    /// The edges queued so far; `nil` once the line is released and every edge has been taken.
    func take() -> [ButtonEdge]? {
        pipe.drain()
        let (edges, ended) = state.withLock { s in
            defer { s.kept = [] }
            return (s.kept, s.ended)
        }
        if ended {
            pipe.wake() // stays readable: the next read says the line is gone
            if edges.isEmpty { return nil }
        }
        return edges
    }
}
