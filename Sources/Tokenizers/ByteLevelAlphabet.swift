/// GPT-2's reversible byte ↔ character table.
///
/// Byte-level BPE works on bytes but stores tokens as printable text: bytes that are printable
/// Latin-1 (`!`…`~`, `¡`…`¬`, `®`…`ÿ`) map to themselves, the other 68 bytes map to U+0100…U+0143
/// in byte order. So a space becomes `Ġ` and a newline `Ċ`.
public enum ByteLevelAlphabet {
    /// `characters[b]` is the scalar standing for byte `b`.
    public static let scalars: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: "\0", count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            let printable = (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
            if printable {
                table[byte] = Unicode.Scalar(UInt8(byte))
            } else {
                table[byte] = Unicode.Scalar(next) ?? "\0"
                next += 1
            }
        }
        return table
    }()

    /// The single-character string for each byte.
    static let strings: [String] = scalars.map { String($0) }

    /// Inverse table: scalar value → byte, for scalars below U+0144.
    static let bytesByScalar: [Int16] = {
        var table = [Int16](repeating: -1, count: 0x144)
        for (byte, scalar) in scalars.enumerated() { table[Int(scalar.value)] = Int16(byte) }
        return table
    }()

    /// Maps raw text to its byte-level spelling (`" hello"` → `"Ġhello"`).
    public static func encode(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for byte in text.utf8 { out.append(scalars[Int(byte)]) }
        return String(out)
    }

    /// The byte a scalar stands for, or nil if it is not in the alphabet.
    static func byte(for scalar: Unicode.Scalar) -> UInt8? {
        let value = Int(scalar.value)
        guard value < bytesByScalar.count, bytesByScalar[value] >= 0 else { return nil }
        return UInt8(bytesByScalar[value])
    }
}
