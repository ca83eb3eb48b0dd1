#if !GPIOD_V2
#if canImport(Glibc)
import Glibc
#endif
import CGPIOD
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PlugCore
import PlugGPIO
import PlugPOSIX
import Synchronization

/// `GPIOBackend` on real GPIO through libgpiod (v1 API, Debian 12's 1.6). Built when the
/// installed libgpiod is 1.x; `LibgpiodV2Backend.swift` is the same class on the v2 API.
///
/// Chips are found by path, name, label or number (`gpiod_chip_open_lookup`); lines by offset or
/// by name (`gpiod_chip_find_line`). Outputs are requested with their initial value in the request
/// and active-low applied by the kernel. The button is requested with its bias and both edges;
/// the caller polls the line's event fd (`ButtonLine.eventFD`) in its own loop, so there is no
/// thread and no periodic wake-up, and each edge carries the kernel's `CLOCK_MONOTONIC` timestamp.
public final class LibgpiodBackend: GPIOBackend {
    /// The v1 API has no kernel debounce: `debounce` is accepted for the v2 backend's sake and
    /// the plug debounces in software.
    public init(debounce: Duration? = nil) {}

    /// The libgpiod in use, e.g. "libgpiod 1.6.3 (v1 API)".
    public static var libraryVersion: String { "libgpiod \(String(cString: gpiod_version_string())) (v1 API)" }

    /// The kernel name, device path and offset of `spec`'s line (for `KernelLineRequest`).
    func locate(_ spec: LineSpec) throws -> (chipName: String, chipPath: String, offset: UInt32) {
        let handle = try LineHandle(spec)
        defer { handle.close() }
        let name = String(cString: gpiod_chip_name(handle.chip))
        return (name, "/dev/" + name, gpiod_line_offset(handle.line))
    }

    /// The chips in /dev, with their labels.
    public func chips() -> GPIOChipListing {
        ChipDirectory.list { path in
            guard let chip = gpiod_chip_open(path) else { return .failure(Errno.current) }
            defer { gpiod_chip_close(chip) }
            return .success(
                GPIOChipInfo(
                    name: String(cString: gpiod_chip_name(chip)),
                    label: String(cString: gpiod_chip_label(chip)),
                    lines: Int(gpiod_chip_num_lines(chip))))
        }
    }

    /// Lines on one chip with one polarity are requested as one bulk request and set with one
    /// ioctl, so the LED never shows an in-between colour; otherwise one request per line.
    public func requestOutputs(_ specs: [LineSpec], initial: [Bool], consumer: String) throws -> any OutputGroup {
        guard let first = specs.first, specs.allSatisfy({ $0.chip == first.chip && $0.activeLow == first.activeLow }),
            specs.count <= Int(GPIOD_LINE_BULK_MAX_LINES)
        else {
            return try requestSeparateOutputs(specs, initial: initial, consumer: consumer)
        }
        let chip = try LineHandle.openChip(first)
        var bulk = gpiod_line_bulk()
        gpiod_line_bulk_init(&bulk)
        for spec in specs {
            guard let line = LineHandle.findLine(chip, spec) else {
                gpiod_chip_close(chip)
                throw GPIOError.lineNotFound(chip: spec.chip, line: spec.line.description)
            }
            gpiod_line_bulk_add(&bulk, line)
        }
        let values = initial.map { Int32($0 ? 1 : 0) }
        let description = specs.map(\.description).joined(separator: ", ")
        if gpiod_line_request_bulk_output_flags(&bulk, consumer, Self.flags(activeLow: first.activeLow), values) != 0 {
            let e = errno
            gpiod_chip_close(chip)
            throw Self.requestError(e, description)
        }
        return LibgpiodOutputGroup(chip: chip, bulk: bulk, description: description)
    }

    public func requestButton(_ spec: LineSpec, bias: Bias, consumer: String) throws -> any ButtonLine {
        let handle = try LineHandle(spec)
        var flags = Self.flags(activeLow: spec.activeLow)
        switch bias {
        case .pullUp: flags |= Int32(GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP)
        case .pullDown: flags |= Int32(GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN)
        case .disabled: flags |= Int32(GPIOD_LINE_REQUEST_FLAG_BIAS_DISABLE)
        case .asIs: break
        }
        if gpiod_line_request_both_edges_events_flags(handle.line, consumer, flags) != 0 {
            let e = errno
            handle.close()
            throw Self.requestError(e, spec)
        }
        return try LibgpiodButton(handle: handle, spec: spec)
    }

    /// The request flags for a line's polarity.
    static func flags(activeLow: Bool) -> Int32 {
        activeLow ? Int32(GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW) : 0
    }
}

/// An open chip and one of its lines; closing the chip releases the line.
final class LineHandle: @unchecked Sendable {
    let chip: OpaquePointer
    let line: OpaquePointer
    private let closed = Atomic<Bool>(false)

    /// Opens the spec's chip by path, name, label or number.
    static func openChip(_ spec: LineSpec) throws -> OpaquePointer {
        guard let chip = gpiod_chip_open_lookup(spec.chip) else {
            switch errno {
            case EACCES, EPERM: throw GPIOError.permissionDenied("GPIO chip \(spec.chip)")
            default: throw GPIOError.chipNotFound(spec.chip)
            }
        }
        return chip
    }

    /// The spec's line on an open chip, by offset or name.
    static func findLine(_ chip: OpaquePointer, _ spec: LineSpec) -> OpaquePointer? {
        switch spec.line {
        case .offset(let o): gpiod_chip_get_line(chip, o)
        case .name(let n): gpiod_chip_find_line(chip, n)
        }
    }

    init(_ spec: LineSpec) throws {
        let chip = try Self.openChip(spec)
        guard let found = Self.findLine(chip, spec) else {
            gpiod_chip_close(chip)
            throw GPIOError.lineNotFound(chip: spec.chip, line: spec.line.description)
        }
        self.chip = chip
        line = found
    }

    func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        gpiod_line_release(line)
        gpiod_chip_close(chip)
    }

    var isClosed: Bool { closed.load(ordering: .acquiring) }
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
        if result != 0 { throw GPIOError.io("setting \(description): \(Errno.current.description)") }
    }

    func release() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        lock.withLock { _ in gpiod_line_release_bulk(&bulkStorage) }
        gpiod_chip_close(chip)
    }
}

final class LibgpiodButton: ButtonLine, @unchecked Sendable {
    let handle: LineHandle
    let spec: LineSpec
    let eventFD: Int32

    init(handle: LineHandle, spec: LineSpec) throws {
        self.handle = handle
        self.spec = spec
        eventFD = gpiod_line_event_get_fd(handle.line)
        guard eventFD >= 0 else {
            let e = errno
            handle.close()
            throw GPIOError.io("watching \(spec): \(Errno(rawValue: e).description)")
        }
    }

    /// One edge per call (the v1 API reads the line's events one by one); `poll` says readable
    /// again while more wait.
    func readEdges() -> [ButtonEdge]? {
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
        let v = gpiod_line_get_value(handle.line)
        guard v >= 0 else { throw GPIOError.io("reading \(spec): \(Errno.current.description)") }
        return v == 1
    }

    func release() { handle.close() }
}
#endif
