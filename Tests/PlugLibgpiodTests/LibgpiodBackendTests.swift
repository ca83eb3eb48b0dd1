import Glibc
import PlugGPIO
import Testing
@testable import PlugLibgpiod

/// What can be checked without a GPIO chip. Everything that needs one — requests, edges with
/// kernel timestamps, busy lines, permissions — runs against gpio-sim in the VM
/// (`./scripts/test vm`, vm/tests/gpio-integration.sh).
@Suite struct LibgpiodBackendTests {
    @Test func missingChipIsReportedByName() {
        #expect(throws: GPIOError.chipNotFound("gpiochip-plugd-test-missing")) {
            try LibgpiodBackend().requestOutput(LineSpec(chip: "gpiochip-plugd-test-missing", line: .offset(0)),
                                                initial: false, consumer: "test")
        }
        #expect(throws: GPIOError.chipNotFound("/dev/gpiochip-plugd-test-missing")) {
            try LibgpiodBackend().requestButton(LineSpec(chip: "/dev/gpiochip-plugd-test-missing", line: .name("button")),
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
            try LibgpiodBackend(debounce: .milliseconds(50)).requestButton(LineSpec(chip: "no-such-label", line: .offset(0)),
                                                                            bias: .pullUp, consumer: "test")
        }
    }

    @Test func requestErrnosMapToClearErrors() {
        let spec = LineSpec(chip: "gpiochip0", line: .name("relay"))
        #expect(LibgpiodBackend.requestError(EBUSY, spec) == .lineBusy(spec.description))
        #expect(LibgpiodBackend.requestError(EACCES, spec) == .permissionDenied(spec.description))
        #expect("\(LibgpiodBackend.requestError(EIO, spec))".contains("Input/output error"))
    }
}
