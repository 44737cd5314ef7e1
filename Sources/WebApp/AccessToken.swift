import Checksums
import Foundation

/// Bearer secrets of the web apps (participant, invite and moderator tokens, CSRF tokens): 32 bytes from the
/// system's cryptographic generator, hex-encoded. The database stores only a token's SHA-256, so a copy of the
/// database does not let anyone act as a participant.
public enum AccessToken {
    /// A new 64-hex-digit token (256 bits from `SystemRandomNumberGenerator`, getrandom(2) on Linux).
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    /// The hex SHA-256 stored in place of the token.
    public static func hash(_ token: String) -> String {
        SHA256.hash(Array(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Compares in time that depends only on the expected length, not on where the strings first differ.
    public static func equal(_ given: String, _ expected: String) -> Bool {
        let a = Array(given.utf8), b = Array(expected.utf8)
        var difference = a.count ^ b.count
        for index in b.indices { difference |= Int(b[index] ^ (index < a.count ? a[index] : 0)) }
        return difference == 0
    }

    /// Whether `text` has a token's shape (64 lowercase hex digits), checked before any lookup.
    public static func isWellFormed(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }
}
