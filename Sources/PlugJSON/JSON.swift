import CJansson

/// A JSON value: what the state file, the control socket's messages and the Home Assistant
/// discovery configs are made of. Jansson parses and writes it (`parse`, `text`); plugd's types
/// map themselves to and from it (`JSONObject`), member by member.
///
/// Not Foundation's `JSONEncoder`/`JSONDecoder`: their generic code alone was about a megabyte
/// of every plug's memory (docs/benchmarks.md), for the few small messages plugd reads and writes.
public enum JSON: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSON])
    case object([String: JSON])

    /// Parses `bytes`: exactly one JSON value (RFC 8259: no comments, no trailing commas, no
    /// NaN, valid UTF-8; a member named twice is an error), optionally surrounded by whitespace.
    public static func parse(_ bytes: some Collection<UInt8>) throws(JSONError) -> JSON {
        var error = json_error_t()
        let root = Array(bytes).withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) {
                json_loadb($0.baseAddress, $0.count, size_t(JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL), &error)
            }
        }
        guard let root else {
            let text = withUnsafeBytes(of: error.text) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            throw JSONError(error.position > 0 || !text.isEmpty ? "\(text) (at byte \(error.position))" : "not JSON")
        }
        defer { json_decref(root) }
        return JSON(root)
    }

    /// This value as JSON text: keys sorted, slashes not escaped, non-ASCII characters as they
    /// are (UTF-8); `pretty` indents it by two spaces, one member per line.
    public func text(pretty: Bool = false) -> String {
        guard let root = makeValue() else { return "null" }
        defer { json_decref(root) }
        let flags = JSON_ENCODE_ANY | JSON_SORT_KEYS | (pretty ? 2 : JSON_COMPACT)
        guard let chars = json_dumps(root, size_t(flags)) else { return "null" }
        defer { free(chars) }
        return String(cString: chars)
    }

    /// A Jansson value for this one (the caller releases it).
    private func makeValue() -> UnsafeMutablePointer<json_t>? {
        switch self {
        case .null: return json_null()
        case .bool(let b): return b ? json_true() : json_false()
        case .int(let i): return json_integer(json_int_t(i))
        case .double(let d): return json_real(d)
        case .string(let s):
            // With its length: a string may hold NUL characters.
            return Self.withChars(s) { json_stringn($0, $1) }
        case .array(let elements):
            let array = json_array()
            for element in elements { json_array_append_new(array, element.makeValue()) }
            return array
        case .object(let members):
            let object = json_object()
            for (key, value) in members {
                _ = Self.withChars(key) { json_object_setn_new(object, $0, $1, value.makeValue()) }
            }
            return object
        }
    }

    /// The value of a Jansson value.
    private init(_ value: UnsafeMutablePointer<json_t>) {
        switch value.pointee.type {
        case JSON_TRUE: self = .bool(true)
        case JSON_FALSE: self = .bool(false)
        case JSON_INTEGER: self = .int(Int64(json_integer_value(value)))
        case JSON_REAL: self = .double(json_real_value(value))
        case JSON_STRING: self = .string(Self.string(json_string_value(value), count: json_string_length(value)))
        case JSON_ARRAY: self = .array((0..<json_array_size(value)).map { JSON(json_array_get(value, $0)) })
        case JSON_OBJECT:
            var members: [String: JSON] = [:]
            var it = json_object_iter(value)
            while let i = it {
                members[Self.string(json_object_iter_key(i), count: json_object_iter_key_len(i))] = JSON(json_object_iter_value(i))
                it = json_object_iter_next(value, i)
            }
            self = .object(members)
        default: self = .null
        }
    }

    /// `body` with the UTF-8 bytes of `s` (NUL-terminated, for an empty string too) and their count.
    private static func withChars<T>(_ s: String, _ body: (UnsafePointer<CChar>, Int) -> T) -> T {
        let bytes = Array(s.utf8) + [0]
        return bytes.withUnsafeBufferPointer { b in b.withMemoryRebound(to: CChar.self) { body($0.baseAddress!, $0.count - 1) } }
    }

    private static func string(_ chars: UnsafePointer<CChar>?, count: Int) -> String {
        guard let chars else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: chars, count: count), as: UTF8.self)
    }
}

/// Why a text is not the JSON plugd expects: json-c's reason, or which field is wrong.
public struct JSONError: Error, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension JSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByDictionaryLiteral, ExpressibleByArrayLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(dictionaryLiteral elements: (String, JSON)...) { self = .object(Dictionary(elements) { _, last in last }) }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    public init(nilLiteral: ()) { self = .null }
}
