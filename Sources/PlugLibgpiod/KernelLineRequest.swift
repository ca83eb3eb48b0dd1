#if canImport(Glibc)
import Glibc
#endif
import CLinux
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PlugGPIO
import PlugPOSIX
import Synchronization

/// One output line requested through the kernel's GPIO character device (uAPI v2, Linux 5.10
/// and later) rather than through libgpiod, for both libgpiod builds: its request is a file
/// descriptor that systemd can keep while plugd restarts, and that the next run takes over.
/// libgpiod can do neither (v1 hides the descriptor, and neither version adopts one), so the
/// relay's request, get and set are these three ioctls; libgpiod still finds the chip and line.
final class KernelLineRequest: OutputLine, @unchecked Sendable {
    /// The request's file descriptor; -1 once released.
    private let fd: Atomic<Int32>
    private let description: String

    private init(fd: Int32, description: String) {
        self.fd = Atomic(fd)
        self.description = description
    }

    /// Requests line `offset` of the chip at `chipPath` as an output at logical level `initial`
    /// (set in the request itself, so the line never glitches), active-low applied by the kernel.
    static func requestOutput(
        chipPath: String, offset: UInt32, activeLow: Bool, initial: Bool, consumer: String,
        description: String
    ) throws -> KernelLineRequest {
        let chip = Glibc.open(chipPath, O_RDWR | O_CLOEXEC)
        guard chip >= 0 else {
            let e = errno
            throw e == EACCES || e == EPERM ? GPIOError.permissionDenied("GPIO chip \(chipPath)") : GPIOError.chipNotFound(chipPath)
        }
        defer { close(chip) } // the request outlives the chip's descriptor
        var request = gpio_v2_line_request()
        request.offsets.0 = offset
        request.num_lines = 1
        withUnsafeMutableBytes(of: &request.consumer) { buffer in
            for (i, byte) in consumer.utf8.prefix(buffer.count - 1).enumerated() { buffer[i] = byte }
        }
        request.config.flags = UInt64(GPIO_V2_LINE_FLAG_OUTPUT.rawValue) | (activeLow ? UInt64(GPIO_V2_LINE_FLAG_ACTIVE_LOW.rawValue) : 0)
        request.config.num_attrs = 1
        request.config.attrs.0.attr.id = GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES.rawValue
        request.config.attrs.0.attr.values = initial ? 1 : 0
        request.config.attrs.0.mask = 1
        guard plug_gpio_v2_get_line(chip, &request) == 0 else {
            let e = errno
            if e == ENOTTY { throw GPIOError.io("requesting \(description): the kernel lacks the GPIO uAPI v2 (Linux 5.10 or later is needed)") }
            throw LibgpiodBackend.requestError(e, description)
        }
        return KernelLineRequest(fd: request.fd, description: description)
    }

    /// Takes over `fd` if the kernel says it is a request for line `offset` of chip `chipName`
    /// alone, and the chip's line info says that line is an output with polarity `activeLow`.
    /// On success the descriptor belongs to the returned line; on refusal it is left open.
    static func adopt(
        fd: Int32, chipName: String, chipPath: String, offset: UInt32, activeLow: Bool,
        description: String
    ) throws -> AdoptedOutput {
        guard let info = try? FileDescriptor.open("/proc/self/fdinfo/\(fd)", .readOnly) else {
            throw AdoptionRefused("fd \(fd) is not open")
        }
        let text = String(decoding: (try? info.readAll()) ?? [], as: UTF8.self)
        try? info.close()
        guard let owner = Self.owner(fdinfo: text) else {
            throw AdoptionRefused("fd \(fd) is not a GPIO line request the kernel describes (Linux 6.1 or later tells which line it holds)")
        }
        guard owner.chip == chipName, owner.lines == [offset] else {
            let lines = owner.lines.map(String.init).joined(separator: ",")
            throw AdoptionRefused("the kept request holds \(owner.chip) line \(lines), the config says \(chipName) line \(offset)")
        }
        let flags = try lineFlags(chipPath: chipPath, offset: offset)
        guard flags & UInt64(GPIO_V2_LINE_FLAG_OUTPUT.rawValue) != 0 else {
            throw AdoptionRefused("\(chipName) line \(offset) is not an output")
        }
        guard (flags & UInt64(GPIO_V2_LINE_FLAG_ACTIVE_LOW.rawValue) != 0) == activeLow else {
            throw AdoptionRefused("the kept request of \(chipName) line \(offset) is \(activeLow ? "active-high" : "active-low"), the config says \(activeLow ? "active-low" : "active-high")")
        }
        let line = KernelLineRequest(fd: fd, description: description)
        return AdoptedOutput(line: line, level: try line.value())
    }

    /// The chip and lines a line request's `/proc/self/fdinfo` entry names (`gpio-chip:` and
    /// `gpio-line:` rows), or nil when it names none.
    static func owner(fdinfo: String) -> (chip: String, lines: [UInt32])? {
        var chip: String?
        var lines: [UInt32] = []
        for row in fdinfo.split(separator: "\n") {
            let parts = row.split(separator: ":", maxSplits: 1).map(\.trimmed)
            guard parts.count == 2 else { continue }
            switch parts[0] {
            case "gpio-chip": chip = parts[1]
            case "gpio-line": if let n = UInt32(parts[1]) { lines.append(n) } else { return nil }
            default: break
            }
        }
        guard let chip, !lines.isEmpty else { return nil }
        return (chip, lines)
    }

    /// The v2 line-info flags of a line (used, output, active-low …).
    static func lineFlags(chipPath: String, offset: UInt32) throws -> UInt64 {
        let chip = Glibc.open(chipPath, O_RDONLY | O_CLOEXEC)
        guard chip >= 0 else { throw AdoptionRefused("cannot open \(chipPath): \(Errno.current)") }
        defer { close(chip) }
        var info = gpio_v2_line_info()
        info.offset = offset
        guard plug_gpio_v2_get_lineinfo(chip, &info) == 0 else {
            throw AdoptionRefused("cannot read line \(offset) of \(chipPath): \(Errno.current)")
        }
        return info.flags
    }

    /// The line's logical level.
    func value() throws -> Bool {
        var values = gpio_v2_line_values(bits: 0, mask: 1)
        guard plug_gpio_v2_get_values(try currentFD(), &values) == 0 else {
            throw GPIOError.io("reading \(description): \(Errno.current)")
        }
        return values.bits & 1 != 0
    }

    func set(_ active: Bool) throws {
        var values = gpio_v2_line_values(bits: active ? 1 : 0, mask: 1)
        guard plug_gpio_v2_set_values(try currentFD(), &values) == 0 else {
            throw GPIOError.io("setting \(description): \(Errno.current)")
        }
    }

    var keepable: KeptRequest? {
        let fd = fd.load(ordering: .acquiring)
        return fd >= 0 ? KeptRequest(fd: fd) : nil
    }

    /// Closes this process's descriptor: the line is released unless a keeper holds a copy.
    func release() {
        let fd = fd.exchange(-1, ordering: .acquiringAndReleasing)
        if fd >= 0 { close(fd) }
    }

    private func currentFD() throws -> Int32 {
        let fd = fd.load(ordering: .acquiring)
        guard fd >= 0 else { throw GPIOError.io("\(description) was released") }
        return fd
    }
}
