import CSodium

/// Makes and checks the web page's session tokens, with no session table: a token is
/// `<expiry>.<nonce>.<mac>`, the MAC an HMAC-SHA-256 of the first two parts under a key drawn
/// from plugd-web's secret (random, kept in its state directory, so sessions survive it exiting
/// when idle) and the password's hash (so setting a new password ends every session). The CSRF
/// token of a session is another MAC of its nonce: the page sends it in a header, which a
/// cross-site form or image cannot.
public struct SessionSigner: Sendable {
    private let key: [UInt8]

    /// The signer for `secret` (32 or more random bytes) and the current `passwordHash`.
    public init(secret: [UInt8], passwordHash: String) {
        _ = sodium_init()
        var key = [UInt8](repeating: 0, count: Int(crypto_auth_hmacsha256_KEYBYTES))
        let material = secret + Array("plugd-web session\0".utf8) + Array(passwordHash.utf8)
        crypto_generichash(&key, key.count, material, UInt64(material.count), nil, 0)
        self.key = key
    }

    /// A new token that expires at `expiry` (seconds since the epoch).
    public func token(expiry: Int64) -> String {
        var nonce = [UInt8](repeating: 0, count: 16)
        randombytes_buf(&nonce, nonce.count)
        let body = "\(expiry).\(Self.hex(nonce))"
        return "\(body).\(mac(body))"
    }

    /// What a valid, unexpired `token` carries: its expiry and nonce; `nil` for anything else.
    public func check(_ token: String, now: Int64) -> (expiry: Int64, nonce: String)? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let expiry = Int64(parts[0]), parts[1].utf8.count == 32 else { return nil }
        let expected = Array(mac("\(parts[0]).\(parts[1])").utf8)
        let given = Array(parts[2].utf8)
        guard given.count == expected.count, sodium_memcmp(given, expected, given.count) == 0 else { return nil }
        guard now < expiry else { return nil }
        return (expiry, String(parts[1]))
    }

    /// The CSRF token for the session with `nonce`.
    public func csrf(nonce: String) -> String { mac("csrf.\(nonce)") }

    /// Whether `given` is the CSRF token for `nonce` (in constant time).
    public func checkCSRF(_ given: String, nonce: String) -> Bool {
        let expected = Array(csrf(nonce: nonce).utf8)
        let g = Array(given.utf8)
        return g.count == expected.count && sodium_memcmp(g, expected, g.count) == 0
    }

    private func mac(_ text: String) -> String {
        var out = [UInt8](repeating: 0, count: Int(crypto_auth_hmacsha256_BYTES))
        let bytes = Array(text.utf8)
        crypto_auth_hmacsha256(&out, bytes, UInt64(bytes.count), key)
        return Self.hex(out)
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes { out += [digits[Int(b >> 4)], digits[Int(b & 15)]] }
        return String(decoding: out, as: UTF8.self)
    }

    /// `count` random bytes (the secret, when plugd-web makes it).
    public static func randomBytes(_ count: Int) -> [UInt8] {
        _ = sodium_init()
        var out = [UInt8](repeating: 0, count: count)
        randombytes_buf(&out, count)
        return out
    }
}
