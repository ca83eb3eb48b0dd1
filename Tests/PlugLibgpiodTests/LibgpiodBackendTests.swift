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

    @Test func requestErrnosMapToClearErrors() {
        let spec = LineSpec(chip: "gpiochip0", line: .name("relay"))
        #expect(LibgpiodBackend.requestError(EBUSY, spec) == .lineBusy(spec.description))
        #expect(LibgpiodBackend.requestError(EACCES, spec) == .permissionDenied(spec.description))
        #expect("\(LibgpiodBackend.requestError(EIO, spec))".contains("Input/output error"))
    }
}
