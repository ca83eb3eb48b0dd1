#if canImport(Glibc)
import Glibc
#endif
import PlugCore
import PlugGPIO
import PlugPOSIX

/// `GPIOBackend` on real GPIO through libgpiod: one skeleton for both of its APIs.
///
/// This file finds chips (by path, name, number or label) and lines (by offset or name), decides
/// which output lines share one request, maps a failed request's errno to a clear error, and
/// falls back to software debouncing when the kernel refuses to debounce. The calls into the
/// library are in `Libgpiod1.swift` (v1 API: Debian 12's libgpiod 1.6) and `Libgpiod2.swift`
/// (v2 API, libgpiod 2.x: Debian 13, Raspberry Pi OS on Trixie): the same names (`Libgpiod`,
/// `LibgpiodOutputGroup`, `LibgpiodButton`) on each API, of which Package.swift builds the one
/// that matches the installed library. Nobody edits a file to choose.
///
/// Outputs are requested with their initial value in the request and active-low applied by the
/// kernel. The button is requested with its bias and both edges; the caller polls its event
/// descriptor (`ButtonLine.eventFD`) in its own loop, so there is no thread and no periodic
/// wake-up, and each edge carries the kernel's `CLOCK_MONOTONIC` timestamp. The relay is
/// requested through the kernel's uAPI instead (`LibgpiodBackend+Relay.swift`), so systemd can
/// keep it through a restart.
public final class LibgpiodBackend: GPIOBackend {
    /// The button's debounce period for the kernel to apply; `nil` where the API cannot ask for
    /// it (v1), and the plug debounces in software.
    let debounce: Duration?

    /// - Parameter debounce: the button's debounce period, for the kernel to apply (v2 API).
    public init(debounce: Duration? = nil) {
        self.debounce = Libgpiod.kernelDebounce ? debounce : nil
    }

    /// The libgpiod in use, e.g. "libgpiod 2.2 (v2 API)".
    public static var libraryVersion: String { "libgpiod \(Libgpiod.version) (\(Libgpiod.api) API)" }

    /// The chips in /dev, with their labels.
    public func chips() -> GPIOChipListing { ChipDirectory.list(probe: Self.probe) }

    /// A chip device's name, label and line count, or the errno of opening it.
    static func probe(_ path: String) -> Result<GPIOChipInfo, Errno> {
        switch Libgpiod.openChip(path: path) {
        case .failure(let e): return .failure(e)
        case .success(let chip):
            defer { Libgpiod.close(chip) }
            return Libgpiod.info(chip)
        }
    }

    /// The kernel name, device path and offset of `spec`'s line (for `KernelLineRequest`).
    func locate(_ spec: LineSpec) throws -> (chipName: String, chipPath: String, offset: UInt32) {
        let (chip, info) = try Self.openChip(spec.chip)
        defer { Libgpiod.close(chip) }
        return (info.name, "/dev/" + info.name, try Self.offset(of: spec, on: chip, info))
    }

    /// Lines on one chip are requested together and set with one ioctl, so the LED never shows
    /// an in-between colour (on the v1 API only lines of one polarity, at most 64); otherwise one
    /// request per line.
    public func requestOutputs(_ specs: [LineSpec], initial: [Bool], consumer: String) throws -> any OutputGroup {
        guard let first = specs.first, specs.count <= Libgpiod.maxLinesPerRequest,
            specs.allSatisfy({ $0.chip == first.chip && ($0.activeLow == first.activeLow || !Libgpiod.onePolarityPerRequest) })
        else {
            return try requestSeparateOutputs(specs, initial: initial, consumer: consumer)
        }
        let (chip, offsets) = try Self.openChip(for: specs)
        return try Libgpiod.requestOutputs(chip: chip, offsets: offsets, specs: specs, initial: initial, consumer: consumer)
    }

    /// The button with its bias and both edges, debounced by the kernel if it can; a kernel that
    /// refuses the debounce setting (before 5.10) gets the request without it.
    public func requestButton(_ spec: LineSpec, bias: Bias, consumer: String) throws -> any ButtonLine {
        func attempt(_ debounce: Duration?) throws -> any ButtonLine {
            let (chip, offsets) = try Self.openChip(for: [spec])
            return try Libgpiod.requestButton(chip: chip, offset: offsets[0], spec: spec, bias: bias, debounce: debounce, consumer: consumer)
        }
        do {
            return try attempt(debounce)
        } catch GPIOError.io where debounce != nil {
            return try attempt(nil)
        }
    }

    /// Opens a chip by path (`/dev/gpiochip0`), name (`gpiochip0`), number (`0`) or label, as
    /// v1's `gpiod_chip_open_lookup` did; returns it with its info.
    static func openChip(_ name: String) throws -> (OpaquePointer, GPIOChipInfo) {
        let path = name.hasPrefix("/") ? name : UInt(name).map { "/dev/gpiochip\($0)" } ?? "/dev/\(name)"
        switch Libgpiod.openChip(path: path) {
        case .success(let chip):
            switch Libgpiod.info(chip) {
            case .success(let info): return (chip, info)
            case .failure(let e):
                Libgpiod.close(chip)
                throw GPIOError.io("reading GPIO chip \(name): \(e)")
            }
        case .failure(let e) where e.rawValue == EACCES || e.rawValue == EPERM:
            throw GPIOError.permissionDenied("GPIO chip \(name)")
        case .failure:
            break
        }
        let listing = ChipDirectory.list(probe: probe)
        if let found = listing.chips.first(where: { $0.label == name }), case .success(let chip) = Libgpiod.openChip(path: "/dev/" + found.name) {
            return (chip, found)
        }
        let denied = !listing.unreadable.isEmpty && !name.hasPrefix("/")
        throw denied ? GPIOError.permissionDenied("GPIO chip \(name)") : GPIOError.chipNotFound(name)
    }

    /// The chip of `specs` (all on one chip) opened, and their lines' offsets on it; the chip is
    /// closed again if a line is not there.
    static func openChip(for specs: [LineSpec]) throws -> (OpaquePointer, [UInt32]) {
        let (chip, info) = try openChip(specs[0].chip)
        do { return (chip, try specs.map { try offset(of: $0, on: chip, info) }) } catch {
            Libgpiod.close(chip)
            throw error
        }
    }

    /// The spec's offset on `chip`: checked against the chip's line count, or found by name.
    static func offset(of spec: LineSpec, on chip: OpaquePointer, _ info: GPIOChipInfo) throws -> UInt32 {
        let found: UInt32? =
            switch spec.line {
            case .offset(let o): Int(o) < info.lines ? o : nil
            case .name(let n): Libgpiod.offset(named: n, on: chip)
            }
        guard let found else { throw GPIOError.lineNotFound(chip: spec.chip, line: spec.line.description) }
        return found
    }

    static func requestError(_ e: Int32, _ spec: LineSpec) -> GPIOError { requestError(e, spec.description) }

    /// The error for a failed line request's errno.
    static func requestError(_ e: Int32, _ lines: String) -> GPIOError {
        switch e {
        case EBUSY: .lineBusy(lines)
        case EACCES, EPERM: .permissionDenied(lines)
        default: .io("requesting \(lines): \(Errno(rawValue: e).description)")
        }
    }
}
