#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PlugCore
import PlugJSON

/// The state file's JSON. The members and their spelling are those the file has always had (it
/// was written by Foundation's `JSONEncoder` before), so files from earlier versions read the same.
extension PlugState {
    public var json: JSON {
        .object(dropping: [
            "version": .int(Int64(version)), "identity": .string(identity.uuidString), "name": .string(name),
            "registered": .bool(registered), "relayOn": .bool(relayOn),
            "powerOnPolicy": powerOnPolicy.map { .string($0.rawValue) }, "board": board.map(JSON.string),
        ])
    }

    public init(json: JSON) throws(JSONError) {
        let o = try JSONObject(json)
        guard let identity = UUID(uuidString: try o.string("identity")) else { throw JSONError("identity: expected a UUID") }
        let policy = try o.optionalString("powerOnPolicy").map { (raw: String) throws(JSONError) -> PowerOnPolicy in
            guard let p = PowerOnPolicy(rawValue: raw) else { throw JSONError("powerOnPolicy: expected on, off or last") }
            return p
        }
        self.init(
            version: try o.int("version"), identity: identity, name: try o.string("name"), registered: try o.bool("registered"),
            relayOn: try o.bool("relayOn"), powerOnPolicy: policy, board: try o.optionalString("board"))
    }
}
