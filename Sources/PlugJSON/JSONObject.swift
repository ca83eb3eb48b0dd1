/// The members of a JSON object being read into one of plugd's types: each accessor names the
/// field in its error, so a bad state file or request says what is wrong with it.
public struct JSONObject {
    public let members: [String: JSON]

    /// `json`, which must be an object.
    public init(_ json: JSON) throws(JSONError) {
        guard case .object(let members) = json else { throw JSONError("expected a JSON object") }
        self.members = members
    }

    /// A required string.
    public func string(_ key: String) throws(JSONError) -> String {
        guard let s = try optionalString(key) else { throw missing(key) }
        return s
    }

    /// A string, or `nil` if the member is absent or null.
    public func optionalString(_ key: String) throws(JSONError) -> String? {
        switch members[key] {
        case nil, .null: return nil
        case .string(let s): return s
        default: throw wrong(key, "a string")
        }
    }

    /// An array of strings, or `nil` if the member is absent or null.
    public func optionalStrings(_ key: String) throws(JSONError) -> [String]? {
        switch members[key] {
        case nil, .null: return nil
        case .array(let items):
            var strings: [String] = []
            for item in items {
                guard case .string(let s) = item else { throw wrong(key, "an array of strings") }
                strings.append(s)
            }
            return strings
        default: throw wrong(key, "an array of strings")
        }
    }

    /// A required boolean.
    public func bool(_ key: String) throws(JSONError) -> Bool {
        guard let b = try optionalBool(key) else { throw missing(key) }
        return b
    }

    /// A boolean, or `nil` if the member is absent or null.
    public func optionalBool(_ key: String) throws(JSONError) -> Bool? {
        switch members[key] {
        case nil, .null: return nil
        case .bool(let b): return b
        default: throw wrong(key, "true or false")
        }
    }

    /// A required integer that fits an `Int`.
    public func int(_ key: String) throws(JSONError) -> Int {
        guard let i = try optionalInt(key) else { throw missing(key) }
        return i
    }

    /// An integer that fits an `Int`, or `nil` if the member is absent or null.
    public func optionalInt(_ key: String) throws(JSONError) -> Int? {
        switch members[key] {
        case nil, .null: return nil
        case .int(let i) where Int(exactly: i) != nil: return Int(i)
        default: throw wrong(key, "an integer")
        }
    }

    /// A required object whose values are all strings.
    public func strings(_ key: String) throws(JSONError) -> [String: String] {
        guard case .object(let o) = members[key] else {
            if members[key] == nil || members[key] == .null { throw missing(key) }
            throw wrong(key, "an object")
        }
        var result: [String: String] = [:]
        for (k, v) in o {
            guard case .string(let s) = v else { throw wrong("\(key).\(k)", "a string") }
            result[k] = s
        }
        return result
    }

    /// A member read by `read` if present and not null.
    public func optional<T>(_ key: String, _ read: (JSON) throws(JSONError) -> T) throws(JSONError) -> T? {
        switch members[key] {
        case nil, .null: return nil
        case .some(let value): return try read(value)
        }
    }

    private func missing(_ key: String) -> JSONError { JSONError("\(key): missing") }
    private func wrong(_ key: String, _ expected: String) -> JSONError { JSONError("\(key): expected \(expected)") }
}

extension JSON {
    /// An object of the members that are not `nil` (absent optionals are left out, as
    /// `JSONEncoder` does).
    public static func object(dropping members: [String: JSON?]) -> JSON {
        .object(members.compactMapValues { $0 })
    }

    /// The UTF-8 bytes of `text()`.
    public func bytes(pretty: Bool = false) -> [UInt8] { Array(text(pretty: pretty).utf8) }
}
