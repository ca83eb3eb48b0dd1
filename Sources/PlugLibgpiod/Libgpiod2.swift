#if GPIOD_V2
#if canImport(Glibc)
import Glibc
#endif
import CGPIOD
import PlugCore
import PlugGPIO
import PlugPOSIX
import Synchronization

/// libgpiod's v2 API (libgpiod 2.x: Debian 13, Raspberry Pi OS on Trixie) under the names
/// `LibgpiodBackend` calls; `Libgpiod1.swift` has the same on the v1 API. Each request is built
/// from line settings, a line config and a request config.
enum Libgpiod {
    static let api = "v2"
    static var version: String { String(cString: gpiod_api_version()) }
    /// The button's settings can ask the kernel to debounce (`debounce_period_us`).
    static let kernelDebounce = true
    /// Every line of a request has its own settings, active-low among them.
    static let onePolarityPerRequest = false
    static let maxLinesPerRequest = Int.max

    static func openChip(path: String) -> Result<OpaquePointer, Errno> {
        gpiod_chip_open(path).map { .success($0) } ?? .failure(.current)
    }

    static func close(_ chip: OpaquePointer) { gpiod_chip_close(chip) }

    static func info(_ chip: OpaquePointer) -> Result<GPIOChipInfo, Errno> {
        guard let info = gpiod_chip_get_info(chip) else { return .failure(.current) }
        defer { gpiod_chip_info_free(info) }
        return .success(
            GPIOChipInfo(
                name: String(cString: gpiod_chip_info_get_name(info)), label: String(cString: gpiod_chip_info_get_label(info)),
                lines: Int(gpiod_chip_info_get_num_lines(info))))
    }

    static func offset(named name: String, on chip: OpaquePointer) -> UInt32? {
        let o = gpiod_chip_get_line_offset_from_name(chip, name)
        return o >= 0 ? UInt32(o) : nil
    }

    /// Requests the lines at `offsets` of `chip` together (a request outlives its chip handle:
    /// `chip` is closed here).
    static func requestOutputs(
        chip: OpaquePointer, offsets: [UInt32], specs: [LineSpec], initial: [Bool], consumer: String
    ) throws -> any OutputGroup {
        let request = try Self.request(chip: chip, offsets: offsets, specs: specs, consumer: consumer) { settings, i in
            gpiod_line_settings_set_direction(settings, GPIOD_LINE_DIRECTION_OUTPUT)
            gpiod_line_settings_set_output_value(settings, initial[i] ? GPIOD_LINE_VALUE_ACTIVE : GPIOD_LINE_VALUE_INACTIVE)
        }
        return LibgpiodOutputGroup(request: request, offsets: offsets, description: specs.map(\.description).joined(separator: ", "))
    }

    /// Requests the button's line for both edges with its bias and, if given, the kernel's
    /// debounce; `chip` is closed here.
    static func requestButton(
        chip: OpaquePointer, offset: UInt32, spec: LineSpec, bias: Bias, debounce: Duration?, consumer: String
    ) throws -> any ButtonLine {
        let request = try Self.request(chip: chip, offsets: [offset], specs: [spec], consumer: consumer) { settings, _ in
            gpiod_line_settings_set_direction(settings, GPIOD_LINE_DIRECTION_INPUT)
            gpiod_line_settings_set_edge_detection(settings, GPIOD_LINE_EDGE_BOTH)
            gpiod_line_settings_set_bias(settings, biasSetting(bias))
            if let debounce {
                gpiod_line_settings_set_debounce_period_us(settings, UInt(max(0, debounce.milliseconds) * 1000))
            }
        }
        return try LibgpiodButton(request: request, offset: offset, spec: spec, kernelDebounce: debounce)
    }

    static func biasSetting(_ bias: Bias) -> gpiod_line_bias {
        switch bias {
        case .pullUp: GPIOD_LINE_BIAS_PULL_UP
        case .pullDown: GPIOD_LINE_BIAS_PULL_DOWN
        case .disabled: GPIOD_LINE_BIAS_DISABLED
        case .asIs: GPIOD_LINE_BIAS_AS_IS
        }
    }

    /// One request for `offsets` of `chip` with the settings `configure` makes for each line,
    /// active-low applied. Closes `chip`.
    private static func request(
        chip: OpaquePointer, offsets: [UInt32], specs: [LineSpec], consumer: String, configure: (OpaquePointer, Int) -> Void
    ) throws -> OpaquePointer {
        defer { close(chip) }
        let description = specs.map(\.description).joined(separator: ", ")
        guard let config = gpiod_line_config_new(), let requestConfig = gpiod_request_config_new() else {
            throw GPIOError.io("requesting \(description): out of memory")
        }
        defer {
            gpiod_line_config_free(config)
            gpiod_request_config_free(requestConfig)
        }
        for (i, spec) in specs.enumerated() {
            guard let settings = gpiod_line_settings_new() else { throw GPIOError.io("requesting \(description): out of memory") }
            defer { gpiod_line_settings_free(settings) }
            gpiod_line_settings_set_active_low(settings, spec.activeLow)
            configure(settings, i)
            var offset = offsets[i]
            if gpiod_line_config_add_line_settings(config, &offset, 1, settings) != 0 {
                throw LibgpiodBackend.requestError(errno, description)
            }
        }
        gpiod_request_config_set_consumer(requestConfig, consumer)
        guard let request = gpiod_chip_request_lines(chip, requestConfig, config) else {
            throw LibgpiodBackend.requestError(errno, description)
        }
        return request
    }
}

/// Output lines requested together on one chip: one ioctl sets them all.
/// `@unchecked Sendable`: the request is only used under `lock`.
final class LibgpiodOutputGroup: OutputGroup, @unchecked Sendable {
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
                throw GPIOError.io("setting \(description): \(Errno.current)")
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
final class LibgpiodButton: ButtonLine, @unchecked Sendable {
    private let request: OpaquePointer
    private let offset: UInt32
    private let spec: LineSpec
    private let buffer: OpaquePointer
    private let released = Atomic<Bool>(false)
    let eventFD: Int32
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

    /// Up to `batch` edges per call; `poll` says readable again while more wait.
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
        guard v != GPIOD_LINE_VALUE_ERROR else { throw GPIOError.io("reading \(spec): \(Errno.current)") }
        return v == GPIOD_LINE_VALUE_ACTIVE
    }

    func release() {
        guard !released.exchange(true, ordering: .acquiringAndReleasing) else { return }
        gpiod_edge_event_buffer_free(buffer)
        gpiod_line_request_release(request)
    }
}
#endif
