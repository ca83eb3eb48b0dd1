import PlugCore

/// Something for the run loop: a machine input (a button edge, an MQTT command), a control
/// request, or a journal entry from another thread (the MQTT client's), recorded in order with
/// the plug's own.
public enum LoopEvent: Sendable {
    case input(PlugMachine.Input)
    case request(ControlRequest)
    case log(PlugEvent)
}
