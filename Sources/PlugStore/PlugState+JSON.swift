#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PlugCore
import PlugJSON

/// The state file's JSON. The members and their spelling are those the file has always had (it
/// was written by Foundation's `JSONEncoder` before), so files from earlier versions read the same;
/// `countdown` and `scheduleSeen` are new (a version without them ignores them: its countdown
/// is lost, and missed schedule runs are not caught up once, nothing else).
extension PlugState {
    public var json: JSON {
        .object(dropping: [
            "version": .int(Int64(version)), "identity": .string(identity.uuidString), "name": .string(name),
            "registered": .bool(registered), "relayOn": .bool(relayOn),
            "powerOnPolicy": powerOnPolicy.map { .string($0.rawValue) }, "board": board.map(JSON.string),
            "countdown": countdown.map { c in
                .object(dropping: [
                    "relayOn": .bool(c.level), "dueNanoseconds": .int(c.due.nanoseconds), "boot": .string(c.boot),
                    "auto": c.auto ? .bool(true) : nil,
                ])
            },
            "scheduleSeen": scheduleSeen.map { .int($0) },
        ])
    }

    public init(json: JSON) throws(JSONError) {
        let o = try JSONObject(json)
        guard let identity = UUID(uuidString: try o.string("identity")) else { throw JSONError("identity: expected a UUID") }
        let policy = try o.optionalString("powerOnPolicy").map { (raw: String) throws(JSONError) -> PowerOnPolicy in
            guard let p = PowerOnPolicy(rawValue: raw) else { throw JSONError("powerOnPolicy: expected on, off or last") }
            return p
        }
        let countdown = try o.optional("countdown") { (json: JSON) throws(JSONError) -> Countdown in
            let c = try JSONObject(json)
            return Countdown(
                level: try c.bool("relayOn"), due: MonotonicInstant(nanoseconds: Int64(try c.int("dueNanoseconds"))),
                boot: try c.string("boot"), auto: try c.optionalBool("auto") ?? false)
        }
        self.init(
            version: try o.int("version"), identity: identity, name: try o.string("name"), registered: try o.bool("registered"),
            relayOn: try o.bool("relayOn"), powerOnPolicy: policy, board: try o.optionalString("board"), countdown: countdown,
            scheduleSeen: try o.optionalInt("scheduleSeen").map(Int64.init))
    }
}
