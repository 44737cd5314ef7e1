import Foundation

/// A simple DEFLATE (RFC 1951) encoder: correctness over ratio.
///
/// `.fast` emits one fixed-Huffman block per ``compress(_:isFinal:)`` call with greedy LZ77 matching
/// (a 3-byte hash remembers the most recent position; matches never reach into earlier calls' input, so calls
/// are independent). `.stored` copies the input into stored blocks. Text typically shrinks to 35–50%, against
/// zlib's ~25%; every output decodes with any inflater.
public struct Deflater {
    /// How hard to compress.
    public enum Level: Sendable {
        /// No compression (stored blocks).
        case stored
        /// Greedy LZ77 with the fixed Huffman code.
        case fast
    }

    /// The compression level.
    public let level: Level
    private var output: [UInt8] = []
    private var bitBuffer: UInt64 = 0
    private var bitCount = 0

    /// Creates an encoder.
    public init(level: Level = .fast) {
        self.level = level
    }

    /// Compresses `input` as one or more blocks; `isFinal` marks the last call (which may pass no bytes).
    public mutating func compress(_ input: UnsafeRawBufferPointer, isFinal: Bool) {
        switch level {
        case .stored: writeStored(input, isFinal: isFinal)
        case .fast: writeFixed(input, isFinal: isFinal)
        }
        if isFinal { flushPartialByte() }
    }

    /// Returns the compressed bytes produced so far (complete bytes only) and clears them.
    public mutating func takeOutput() -> Data {
        defer { output.removeAll(keepingCapacity: true) }
        return Data(output)
    }

    // MARK: Bit output (LSB first)

    @inline(__always)
    private mutating func putBits(_ value: UInt32, _ count: Int) {
        bitBuffer |= UInt64(value) << UInt64(bitCount)
        bitCount += count
        if bitCount >= 32 {
            for _ in 0..<4 { output.append(UInt8(truncatingIfNeeded: bitBuffer)); bitBuffer >>= 8 }
            bitCount -= 32
        }
    }

    private mutating func flushPartialByte() {
        while bitCount > 0 {
            output.append(UInt8(truncatingIfNeeded: bitBuffer))
            bitBuffer >>= 8
            bitCount = max(0, bitCount - 8)
        }
        bitBuffer = 0
    }

    // MARK: Stored blocks

    private mutating func writeStored(_ input: UnsafeRawBufferPointer, isFinal: Bool) {
        var offset = 0
        repeat {
            let count = min(65535, input.count - offset)
            let last = isFinal && offset + count == input.count
            putBits(last ? 1 : 0, 3)  // BFINAL, BTYPE=00
            flushPartialByte()
            output += [UInt8(count & 0xFF), UInt8(count >> 8), UInt8(~count & 0xFF), UInt8((~count >> 8) & 0xFF)]
            output += input[offset..<(offset + count)]
            offset += count
        } while offset < input.count
    }

    // MARK: Fixed Huffman + LZ77

    /// Bit-reversed fixed literal/length codes and their lengths (RFC 1951 §3.2.6).
    static let fixedCodes: [(code: UInt32, length: Int)] = (0..<288).map { symbol in
        let (code, length): (Int, Int)
        switch symbol {
        case 0..<144: (code, length) = (0x30 + symbol, 8)
        case 144..<256: (code, length) = (0x190 + symbol - 144, 9)
        case 256..<280: (code, length) = (symbol - 256, 7)
        default: (code, length) = (0xC0 + symbol - 280, 8)
        }
        return (UInt32(reverse(code, bits: length)), length)
    }
    static let lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    static let distanceBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    static let distanceExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]
    /// Length 3...258 → length code index (0...28).
    static let lengthCode: [UInt8] = (0...258).map { length in
        UInt8(max(0, (lengthBase.lastIndex { $0 <= max(length, 3) }) ?? 0))
    }

    static func reverse(_ value: Int, bits: Int) -> Int {
        (0..<bits).reduce(0) { result, bit in result << 1 | (value >> bit) & 1 }
    }

    @inline(__always)
    private mutating func putSymbol(_ symbol: Int) {
        let entry = Self.fixedCodes[symbol]
        putBits(entry.code, entry.length)
    }

    private mutating func writeFixed(_ input: UnsafeRawBufferPointer, isFinal: Bool) {
        guard input.count > 0 || isFinal else { return }
        putBits(isFinal ? 0b011 : 0b010, 3)  // BFINAL, BTYPE=01 (fixed)
        let hashBits = 15
        var head = [Int32](repeating: -1, count: 1 << hashBits)
        let count = input.count
        func hash(_ at: Int) -> Int {
            let value = UInt32(input[at]) | UInt32(input[at + 1]) << 8 | UInt32(input[at + 2]) << 16
            return Int((value &* 0x9E37_79B1) >> UInt32(32 - hashBits))
        }
        var position = 0
        while position < count {
            var matchLength = 0
            var matchDistance = 0
            if position + 3 <= count {
                let slot = hash(position)
                let candidate = Int(head[slot])
                head[slot] = Int32(position)
                if candidate >= 0, position - candidate <= 32768 {
                    let limit = min(258, count - position)
                    var length = 0
                    while length < limit && input[candidate + length] == input[position + length] { length += 1 }
                    if length >= 3 {
                        matchLength = length
                        matchDistance = position - candidate
                    }
                }
            }
            if matchLength == 0 {
                putSymbol(Int(input[position]))
                position += 1
                continue
            }
            let lengthIndex = Int(Self.lengthCode[matchLength])
            putSymbol(257 + lengthIndex)
            putBits(UInt32(matchLength - Self.lengthBase[lengthIndex]), Self.lengthExtra[lengthIndex])
            let distanceIndex = (Self.distanceBase.lastIndex { $0 <= matchDistance }) ?? 0
            putBits(UInt32(Self.reverse(distanceIndex, bits: 5)), 5)
            putBits(UInt32(matchDistance - Self.distanceBase[distanceIndex]), Self.distanceExtra[distanceIndex])
            // Remember the positions inside the match too, so later repeats find them.
            let end = position + matchLength
            position += 1
            while position < end {
                if position + 3 <= count { head[hash(position)] = Int32(position) }
                position += 1
            }
        }
        putSymbol(256)
    }
}
