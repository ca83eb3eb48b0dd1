#if GPIOD_V2
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

/// `GPIOBackend` on real GPIO through libgpiod's v2 API (libgpiod 2.x: Debian 13, Raspberry Pi
/// OS on Trixie). Built instead of the v1 backend when the installed libgpiod is 2.x; the
/// behaviour above it is the same.
///
/// Chips are found by path, name, number or label, as v1's `gpiod_chip_open_lookup` did; lines
/// by offset or name. Each request is built from line settings, a line config and a request
/// config. The button asks the kernel to debounce its edges (`debounce_period_us`); if the
/// kernel refuses, it is requested without, and the plug debounces in software.
public final class LibgpiodBackend: GPIOBackend {
    private let debounce: Duration?

    /// - Parameter debounce: the button's debounce period, for the kernel to apply.
    public init(debounce: Duration? = nil) {
        self.debounce = debounce
    }

    /// The libgpiod in use, e.g. "libgpiod 2.3 (v2 API)".
    public static var libraryVersion: String { "libgpiod \(String(cString: gpiod_api_version())) (v2 API)" }

    /// The kernel name, device path and offset of `spec`'s line (for `KernelLineRequest`).
    func locate(_ spec: LineSpec) throws -> (chipName: String, chipPath: String, offset: UInt32) {
        let chip = try Self.openChip(spec.chip)
        defer { gpiod_chip_close(chip) }
        guard let info = gpiod_chip_get_info(chip) else { throw GPIOError.io("reading chip \(spec.chip): \(Errno.current)") }
        defer { gpiod_chip_info_free(info) }
        return (
            String(cString: gpiod_chip_info_get_name(info)), String(cString: gpiod_chip_get_path(chip)),
            try Self.offset(of: spec, on: chip)
        )
    }

    /// Lines on one chip are requested together and set with one ioctl, so the LED never shows
    /// an in-between colour; lines on different chips get one request each.
    public func requestOutputs(_ specs: [LineSpec], initial: [Bool], consumer: String) throws -> any OutputGroup {
        guard let first = specs.first, specs.allSatisfy({ $0.chip == first.chip }) else {
            return try requestSeparateOutputs(specs, initial: initial, consumer: consumer)
        }
        let (request, offsets) = try Self.request(specs, consumer: consumer) { settings, i in
            gpiod_line_settings_set_direction(settings, GPIOD_LINE_DIRECTION_OUTPUT)
            gpiod_line_settings_set_output_value(settings, initial[i] ? GPIOD_LINE_VALUE_ACTIVE : GPIOD_LINE_VALUE_INACTIVE)
        }
        return V2Outputs(request: request, offsets: offsets, description: specs.map(\.description).joined(separator: ", "))
    }

    public func requestButton(_ spec: LineSpec, bias: Bias, consumer: String) throws -> any ButtonLine {
        let kernelBias =
            switch bias {
            case .pullUp: GPIOD_LINE_BIAS_PULL_UP
            case .pullDown: GPIOD_LINE_BIAS_PULL_DOWN
            case .disabled: GPIOD_LINE_BIAS_DISABLED
            case .asIs: GPIOD_LINE_BIAS_AS_IS
            }
        func attempt(_ debounce: Duration?) throws -> (OpaquePointer, [UInt32]) {
            try Self.request([spec], consumer: consumer) { settings, _ in
                gpiod_line_settings_set_direction(settings, GPIOD_LINE_DIRECTION_INPUT)
                gpiod_line_settings_set_edge_detection(settings, GPIOD_LINE_EDGE_BOTH)
                gpiod_line_settings_set_bias(settings, kernelBias)
                if let debounce {
                    gpiod_line_settings_set_debounce_period_us(settings, UInt(max(0, debounce.milliseconds) * 1000))
                }
            }
        }
        var kernelDebounce = debounce
        let requested: (OpaquePointer, [UInt32])
        do {
            requested = try attempt(debounce)
        } catch GPIOError.io(let reason) where debounce != nil {
            // A kernel without debounce support (before 5.10, or no v2 uAPI) refuses the
            // setting: take the line without it and debounce in software.
            _ = reason
            kernelDebounce = nil
            requested = try attempt(nil)
        }
        return try V2Button(request: requested.0, offset: requested.1[0], spec: spec, kernelDebounce: kernelDebounce)
    }

    /// The chips in /dev, with their labels.
    public func chips() -> GPIOChipListing { Self.listChips() }

    static func listChips() -> GPIOChipListing {
        ChipDirectory.list { path in
            guard let chip = gpiod_chip_open(path) else { return .failure(Errno.current) }
            defer { gpiod_chip_close(chip) }
            guard let info = gpiod_chip_get_info(chip) else { return .failure(Errno.current) }
            defer { gpiod_chip_info_free(info) }
            return .success(
                GPIOChipInfo(
                    name: String(cString: gpiod_chip_info_get_name(info)),
                    label: String(cString: gpiod_chip_info_get_label(info)),
                    lines: Int(gpiod_chip_info_get_num_lines(info))))
        }
    }

    /// Requests `specs` (all on one chip) with the settings `configure` makes for each, active-low
    /// applied. Returns the request and the lines' offsets.
    static func request(
        _ specs: [LineSpec], consumer: String,
        configure: (OpaquePointer, Int) -> Void
    ) throws -> (OpaquePointer, [UInt32]) {
        let description = specs.map(\.description).joined(separator: ", ")
        let chip = try openChip(specs[0].chip)
        defer { gpiod_chip_close(chip) } // a request outlives its chip handle
        let offsets = try specs.map { try offset(of: $0, on: chip) }
        guard let config = gpiod_line_config_new(), let requestConfig = gpiod_request_config_new() else {
            throw GPIOError.io("requesting \(description): out of memory")
        }
        defer { gpiod_line_config_free(config); gpiod_request_config_free(requestConfig) }
        for (i, spec) in specs.enumerated() {
            guard let settings = gpiod_line_settings_new() else { throw GPIOError.io("requesting \(description): out of memory") }
            defer { gpiod_line_settings_free(settings) }
            gpiod_line_settings_set_active_low(settings, spec.activeLow)
            configure(settings, i)
            var offset = offsets[i]
            if gpiod_line_config_add_line_settings(config, &offset, 1, settings) != 0 {
                throw requestError(errno, description)
            }
        }
        gpiod_request_config_set_consumer(requestConfig, consumer)
        guard let request = gpiod_chip_request_lines(chip, requestConfig, config) else {
            throw requestError(errno, description)
        }
        return (request, offsets)
    }

    /// Opens a chip by path (`/dev/gpiochip0`), name (`gpiochip0`), number (`0`) or label.
    static func openChip(_ name: String) throws -> OpaquePointer {
        let path = name.hasPrefix("/") ? name : UInt(name).map { "/dev/gpiochip\($0)" } ?? "/dev/\(name)"
        if gpiod_is_gpiochip_device(path) {
            if let chip = gpiod_chip_open(path) { return chip }
            if errno == EACCES || errno == EPERM { throw GPIOError.permissionDenied("GPIO chip \(name)") }
        }
        let listing = listChips()
        if let found = listing.chips.first(where: { $0.label == name }), let chip = gpiod_chip_open("/dev/" + found.name) {
            return chip
        }
        let denied = !listing.unreadable.isEmpty && !name.hasPrefix("/")
        throw denied ? GPIOError.permissionDenied("GPIO chip \(name)") : GPIOError.chipNotFound(name)
    }

    /// The spec's offset on `chip`: checked against the chip's line count, or found by name.
    static func offset(of spec: LineSpec, on chip: OpaquePointer) throws -> UInt32 {
        let notFound = GPIOError.lineNotFound(chip: spec.chip, line: spec.line.description)
        switch spec.line {
        case .offset(let o):
            guard let info = gpiod_chip_get_info(chip) else { throw notFound }
            defer { gpiod_chip_info_free(info) }
            guard o < gpiod_chip_info_get_num_lines(info) else { throw notFound }
            return o
        case .name(let n):
            let o = gpiod_chip_get_line_offset_from_name(chip, n)
            guard o >= 0 else { throw notFound }
            return UInt32(o)
        }
    }
}

/// Output lines requested together on one chip: one ioctl sets them all.
/// `@unchecked Sendable`: the request is only used under `lock`.
final class V2Outputs: OutputGroup, @unchecked Sendable {
    private let request: OpaquePointer
    private let offsets: [UInt32]
    private let description: String
    private let lock = Mutex(())
    private var released = false

    init(request: OpaquePointer, offsets: [UInt32], description: String) {
        self.request = request
        self.offsets = offsets
        self.description = description
    }

    func set(_ values: [Bool]) throws {
        let levels = values.map { $0 ? GPIOD_LINE_VALUE_ACTIVE : GPIOD_LINE_VALUE_INACTIVE }
        try lock.withLock { _ in
            guard !released else { throw GPIOError.io("\(description) was released") }
            if gpiod_line_request_set_values_subset(request, offsets.count, offsets, levels) != 0 {
                throw GPIOError.io("setting \(description): \(Errno.current.description)")
            }
        }
    }

    func release() {
        lock.withLock { _ in
            guard !released else { return }
            released = true
            gpiod_line_request_release(request)
        }
    }
}

/// The button: its edge events are read in batches into an edge-event buffer.
/// `@unchecked Sendable`: the buffer is used only by the thread that polls `eventFD`, which
/// releases the request after its last read.
final class V2Button: ButtonLine, @unchecked Sendable {
    private let request: OpaquePointer
    private let offset: UInt32
    private let spec: LineSpec
    private let buffer: OpaquePointer
    let eventFD: Int32
    private let released = Atomic<Bool>(false)
    let kernelDebounce: Duration?
    static let batch = 16

    init(request: OpaquePointer, offset: UInt32, spec: LineSpec, kernelDebounce: Duration?) throws {
        self.request = request
        self.offset = offset
        self.spec = spec
        self.kernelDebounce = kernelDebounce
        guard let buffer = gpiod_edge_event_buffer_new(Self.batch) else {
            gpiod_line_request_release(request)
            throw GPIOError.io("watching \(spec): out of memory")
        }
        self.buffer = buffer
        eventFD = gpiod_line_request_get_fd(request)
    }

    func readEdges() -> [ButtonEdge]? {
        guard !released.load(ordering: .acquiring) else { return nil }
        let n = gpiod_line_request_read_edge_events(request, buffer, Self.batch)
        guard n >= 0 else { return nil }
        return (0..<Int(n)).compactMap { i in
            guard let event = gpiod_edge_event_buffer_get_event(buffer, UInt(i)) else { return nil }
            return ButtonEdge(
                pressed: gpiod_edge_event_get_event_type(event) == GPIOD_EDGE_EVENT_RISING_EDGE,
                timestamp: MonotonicInstant(nanoseconds: Int64(gpiod_edge_event_get_timestamp_ns(event))))
        }
    }

    func isPressed() throws -> Bool {
        let v = gpiod_line_request_get_value(request, offset)
        guard v != GPIOD_LINE_VALUE_ERROR else { throw GPIOError.io("reading \(spec): \(Errno.current.description)") }
        return v == GPIOD_LINE_VALUE_ACTIVE
    }

    func release() {
        guard !released.exchange(true, ordering: .acquiringAndReleasing) else { return }
        gpiod_edge_event_buffer_free(buffer)
        gpiod_line_request_release(request)
    }
}
#endif
