import PlugGPIO

/// Single output lines (the relay) for both libgpiod builds: libgpiod finds the chip and line,
/// the kernel's uAPI requests it (`KernelLineRequest`), so the request can be kept by systemd
/// across a restart and taken over by the next run.
extension LibgpiodBackend {
    public func requestOutput(_ spec: LineSpec, initial: Bool, consumer: String) throws -> any OutputLine {
        let place = try locate(spec)
        return try KernelLineRequest.requestOutput(
            chipPath: place.chipPath, offset: place.offset, activeLow: spec.activeLow,
            initial: initial, consumer: consumer, description: spec.description)
    }

    public func adoptOutput(_ spec: LineSpec, from kept: KeptRequest) throws -> AdoptedOutput {
        let place: (chipName: String, chipPath: String, offset: UInt32)
        do { place = try locate(spec) } catch { throw AdoptionRefused("\(error)") }
        return try KernelLineRequest.adopt(
            fd: kept.fd, chipName: place.chipName, chipPath: place.chipPath,
            offset: place.offset, activeLow: spec.activeLow, description: spec.description)
    }
}
