#if !GPIOD_V2
#if canImport(Glibc)
import Glibc
#endif
import CGPIOD
import PlugCore
import PlugGPIO
import PlugPOSIX
import Synchronization

/// libgpiod's v1 API (Debian 12's 1.6) under the names `LibgpiodBackend` calls;
/// `Libgpiod2.swift` has the same on the v2 API.
enum Libgpiod {
    static let api = "v1"
    static var version: String { String(cString: gpiod_version_string()) }
    /// The v1 API cannot ask the kernel to debounce: the plug debounces in software.
    static let kernelDebounce = false
    /// A bulk request takes one set of flags, active-low among them.
    static let onePolarityPerRequest = true
    static let maxLinesPerRequest = Int(GPIOD_LINE_BULK_MAX_LINES)

    static func openChip(path: String) -> Result<OpaquePointer, Errno> {
        gpiod_chip_open(path).map { .success($0) } ?? .failure(.current)
    }

    static func close(_ chip: OpaquePointer) { gpiod_chip_close(chip) }

    static func info(_ chip: OpaquePointer) -> Result<GPIOChipInfo, Errno> {
        .success(
            GPIOChipInfo(
                name: String(cString: gpiod_chip_name(chip)), label: String(cString: gpiod_chip_label(chip)),
                lines: Int(gpiod_chip_num_lines(chip))))
    }

    static func offset(named name: String, on chip: OpaquePointer) -> UInt32? {
        gpiod_chip_find_line(chip, name).map { gpiod_line_offset($0) }
    }

    /// Requests the lines at `offsets` of `chip` (which the result keeps: closing the chip
    /// releases its lines; closed here on failure) as one bulk request.
    static func requestOutputs(
        chip: OpaquePointer, offsets: [UInt32], specs: [LineSpec], initial: [Bool], consumer: String
    ) throws -> any OutputGroup {
        let description = specs.map(\.description).joined(separator: ", ")
        var bulk = gpiod_line_bulk()
        gpiod_line_bulk_init(&bulk)
        for offset in offsets {
            guard let line = gpiod_chip_get_line(chip, offset) else {
                let e = errno
                close(chip)
                throw LibgpiodBackend.requestError(e, description)
            }
            gpiod_line_bulk_add(&bulk, line)
        }
        let values = initial.map { Int32($0 ? 1 : 0) }
        if gpiod_line_request_bulk_output_flags(&bulk, consumer, flags(activeLow: specs[0].activeLow), values) != 0 {
            let e = errno
            close(chip)
            throw LibgpiodBackend.requestError(e, description)
        }
        return LibgpiodOutputGroup(chip: chip, bulk: bulk, description: description)
    }

    /// Requests the button's line for both edges with its bias; the result keeps `chip`.
    /// `debounce` is always `nil` here (`kernelDebounce` is false).
    static func requestButton(
        chip: OpaquePointer, offset: UInt32, spec: LineSpec, bias: Bias, debounce: Duration?, consumer: String
    ) throws -> any ButtonLine {
        guard let line = gpiod_chip_get_line(chip, offset) else {
            let e = errno
            close(chip)
            throw LibgpiodBackend.requestError(e, spec)
        }
        if gpiod_line_request_both_edges_events_flags(line, consumer, flags(activeLow: spec.activeLow) | biasFlag(bias)) != 0 {
            let e = errno
            close(chip)
            throw LibgpiodBackend.requestError(e, spec)
        }
        return try LibgpiodButton(chip: chip, line: line, spec: spec)
    }

    static func flags(activeLow: Bool) -> Int32 {
        activeLow ? Int32(GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW) : 0
    }

    static func biasFlag(_ bias: Bias) -> Int32 {
        switch bias {
        case .pullUp: Int32(GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP)
        case .pullDown: Int32(GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN)
        case .disabled: Int32(GPIOD_LINE_REQUEST_FLAG_BIAS_DISABLE)
        case .asIs: 0
        }
    }
}

/// Lines of one chip requested in bulk: one ioctl sets them all.
/// `@unchecked Sendable`: the C bulk struct (line pointers) is only touched under `lock`.
final class LibgpiodOutputGroup: OutputGroup, @unchecked Sendable {
    private let chip: OpaquePointer
    private var bulkStorage: gpiod_line_bulk
    private let lock = Mutex(())
    private let closed = Atomic<Bool>(false)
    private let description: String

    init(chip: OpaquePointer, bulk: gpiod_line_bulk, description: String) {
        self.chip = chip
        bulkStorage = bulk
        self.description = description
    }

    func set(_ values: [Bool]) throws {
        guard !closed.load(ordering: .acquiring) else { throw GPIOError.io("\(description) was released") }
        let ints = values.map { Int32($0 ? 1 : 0) }
        let result = lock.withLock { _ in gpiod_line_set_value_bulk(&bulkStorage, ints) }
        if result != 0 { throw GPIOError.io("setting \(description): \(Errno.current)") }
    }

    func release() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        lock.withLock { _ in gpiod_line_release_bulk(&bulkStorage) }
        gpiod_chip_close(chip)
    }
}

/// The button: the v1 API reads its events one by one from the line's event descriptor.
final class LibgpiodButton: ButtonLine, @unchecked Sendable {
    private let chip: OpaquePointer
    private let line: OpaquePointer
    private let spec: LineSpec
    private let closed = Atomic<Bool>(false)
    let eventFD: Int32

    init(chip: OpaquePointer, line: OpaquePointer, spec: LineSpec) throws {
        self.chip = chip
        self.line = line
        self.spec = spec
        eventFD = gpiod_line_event_get_fd(line)
        guard eventFD >= 0 else {
            let e = Errno.current
            gpiod_line_release(line)
            gpiod_chip_close(chip)
            throw GPIOError.io("watching \(spec): \(e)")
        }
    }

    /// One edge per call; `poll` says readable again while more wait.
    func readEdges() -> [ButtonEdge]? {
        guard !closed.load(ordering: .acquiring) else { return nil }
        var event = gpiod_line_event()
        guard gpiod_line_event_read_fd(eventFD, &event) == 0 else { return nil }
        let ns = Int64(event.ts.tv_sec) * 1_000_000_000 + Int64(event.ts.tv_nsec)
        return [
            ButtonEdge(
                pressed: event.event_type == Int32(GPIOD_LINE_EVENT_RISING_EDGE),
                timestamp: MonotonicInstant(nanoseconds: ns))
        ]
    }

    func isPressed() throws -> Bool {
        let v = gpiod_line_get_value(line)
        guard v >= 0 else { throw GPIOError.io("reading \(spec): \(Errno.current)") }
        return v == 1
    }

    func release() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        gpiod_line_release(line)
        gpiod_chip_close(chip)
    }
}
#endif
