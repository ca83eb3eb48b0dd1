import Glibc
import Foundation
import PlugGPIO
import PlugPOSIX
import Testing
@testable import PlugLibgpiod

/// What can be checked without a GPIO chip. Everything that needs one — requests, edges with
/// kernel timestamps, busy lines, permissions — runs against gpio-sim in the VM
/// (`./scripts/test vm`, integration/gpio-integration.sh).
@Suite struct LibgpiodBackendTests {
    @Test func missingChipIsReportedByName() {
        #expect(throws: GPIOError.chipNotFound("gpiochip-plugd-test-missing")) {
            try LibgpiodBackend().requestOutput(
                LineSpec(chip: "gpiochip-plugd-test-missing", line: .offset(0)),
                initial: false, consumer: "test")
        }
        #expect(throws: GPIOError.chipNotFound("/dev/gpiochip-plugd-test-missing")) {
            try LibgpiodBackend().requestButton(
                LineSpec(chip: "/dev/gpiochip-plugd-test-missing", line: .name("button")),
                bias: .pullUp, consumer: "test")
        }
    }

    /// Package.swift chose the backend from the installed libgpiod's version.
    @Test func theBackendMatchesTheLibraryItWasBuiltFor() {
        #if GPIOD_V2
        #expect(LibgpiodBackend.libraryVersion.hasPrefix("libgpiod 2."))
        #expect(LibgpiodBackend.libraryVersion.hasSuffix("(v2 API)"))
        #else
        #expect(LibgpiodBackend.libraryVersion.hasPrefix("libgpiod 1."))
        #expect(LibgpiodBackend.libraryVersion.hasSuffix("(v1 API)"))
        #endif
    }

    @Test func aChipIsLookedUpByNumberAndLabelToo() {
        #expect(throws: GPIOError.chipNotFound("4242")) {
            try LibgpiodBackend().requestOutput(LineSpec(chip: "4242", line: .offset(0)), initial: false, consumer: "test")
        }
        #expect(throws: GPIOError.chipNotFound("no-such-label")) {
            try LibgpiodBackend(debounce: .milliseconds(50)).requestButton(
                LineSpec(chip: "no-such-label", line: .offset(0)),
                bias: .pullUp, consumer: "test")
        }
    }

    @Test func requestErrnosMapToClearErrors() {
        let spec = LineSpec(chip: "gpiochip0", line: .name("relay"))
        #expect(LibgpiodBackend.requestError(EBUSY, spec) == .lineBusy(spec.description))
        #expect(LibgpiodBackend.requestError(EACCES, spec) == .permissionDenied(spec.description))
        #expect("\(LibgpiodBackend.requestError(EIO, spec))".contains("Input/output error"))
    }

    /// `chip = "auto"` lists /dev: every chip once (Pi OS's gpiochip4 symlink is not a second
    /// chip), in number order, chips it may not open set apart, other devices skipped.
    @Test func theChipDirectoryListsEachChipOnceInNumberOrder() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("chips-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for name in ["gpiochip0", "gpiochip2", "gpiochip9", "gpiochip10", "gpiochip11", "ttyS0"] {
            FileManager.default.createFile(atPath: "\(dir)/\(name)", contents: nil)
        }
        try FileManager.default.createSymbolicLink(atPath: "\(dir)/gpiochip4", withDestinationPath: "gpiochip0")
        var probed: [String] = []
        let listing = ChipDirectory.list(dir) { path in
            let name = URL(fileURLWithPath: path).lastPathComponent
            probed.append(name)
            switch name {
            case "gpiochip2": return .failure(Errno(rawValue: EACCES))
            case "gpiochip10": return .failure(Errno(rawValue: ENOTTY)) // not a GPIO chip
            default: return .success(GPIOChipInfo(name: name, label: "label-\(name)", lines: 1))
            }
        }
        #expect(probed == ["gpiochip0", "gpiochip2", "gpiochip9", "gpiochip10", "gpiochip11"])
        #expect(listing.chips.map(\.name) == ["gpiochip0", "gpiochip9", "gpiochip11"])
        #expect(listing.unreadable == ["gpiochip2"])
    }

    @Test func aKeptRequestIsKnownByTheChipAndLineItsFdinfoNames() {
        let relay = "pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t1057\ngpio-chip:\tgpiochip0\ngpio-line:\t17\n"
        #expect(KernelLineRequest.owner(fdinfo: relay)?.chip == "gpiochip0")
        #expect(KernelLineRequest.owner(fdinfo: relay)?.lines == [17])
        let three = "gpio-chip:\tgpiochip2\ngpio-line:\t5\ngpio-line:\t6\ngpio-line:\t7\n"
        #expect(KernelLineRequest.owner(fdinfo: three)?.lines == [5, 6, 7])
        // A file, a socket, or a kernel before 6.1 (no gpio rows): nothing to adopt.
        #expect(KernelLineRequest.owner(fdinfo: "pos:\t0\nflags:\t02\nmnt_id:\t20\n") == nil)
        #expect(KernelLineRequest.owner(fdinfo: "gpio-chip:\tgpiochip0\n") == nil)
        #expect(KernelLineRequest.owner(fdinfo: "gpio-chip:\tgpiochip0\ngpio-line:\tx\n") == nil)
    }

    @Test func anOpenFileIsNotTakenOverAsTheRelay() throws {
        let fd = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { close(fd) }
        #expect(throws: AdoptionRefused.self) {
            try KernelLineRequest.adopt(
                fd: fd, chipName: "gpiochip0", chipPath: "/dev/gpiochip0", offset: 0,
                activeLow: false, description: "relay")
        }
        #expect(throws: AdoptionRefused.self) {
            try KernelLineRequest.adopt(
                fd: 999, chipName: "gpiochip0", chipPath: "/dev/gpiochip0", offset: 0,
                activeLow: false, description: "relay")
        }
    }

    @Test func theChipsOfAMachineWithoutGPIOAreAnEmptyListing() {
        #expect(
            ChipDirectory.list("/nonexistent-plugd-test") { _ in .failure(Errno(rawValue: ENOENT)) }
                == GPIOChipListing(chips: []))
    }
}
