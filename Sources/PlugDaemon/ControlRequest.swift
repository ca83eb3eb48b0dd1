import PlugCore
import PlugProtocol

/// A request from the control socket: an optional input (a command; `nil` only asks for the
/// status) and where to send the reply.
public struct ControlRequest: Sendable {
    public var input: PlugMachine.Input?
    public var reply: @Sendable (ControlReply) -> Void

    public init(input: PlugMachine.Input?, reply: @escaping @Sendable (ControlReply) -> Void) {
        self.input = input
        self.reply = reply
    }
}
