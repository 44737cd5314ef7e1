/// A canonical Huffman code (RFC 1951 §3.2.2) prepared for fast decoding.
///
/// Codes of up to ``fastBits`` bits decode with one lookup of the next `fastBits` input bits; the rare longer
/// codes fall back to the canonical bit-by-bit walk over `counts`/`symbols` (as in zlib's `puff`).
final class HuffmanTable {
    /// Bits resolved by the lookup table (lit/len codes are mostly ≤ 10 bits).
    static let fastBits = 10
    static let fastMask: UInt64 = (1 << UInt64(fastBits)) - 1

    /// `fast[next fastBits bits] = symbol << 4 | code length`, or 0 when the code is longer than `fastBits`
    /// (or unassigned).
    let fast: UnsafeMutablePointer<UInt16>
    /// Number of codes of each length 0...15.
    let counts: UnsafeMutablePointer<Int16>
    /// Symbols ordered by code (canonical order).
    let symbols: UnsafeMutablePointer<UInt16>
    private let symbolCapacity = 320

    init() {
        fast = .allocate(capacity: 1 << Self.fastBits)
        counts = .allocate(capacity: 16)
        symbols = .allocate(capacity: symbolCapacity)
    }

    deinit {
        fast.deallocate()
        counts.deallocate()
        symbols.deallocate()
    }

    /// Whether the code is complete (every bit pattern decodes), over-subscribed, or incomplete.
    enum Shape { case complete, incomplete }

    /// Builds the code from per-symbol code lengths (0 = unused).
    /// - Returns: Whether the code is complete; incomplete codes are legal only in limited cases (caller decides).
    /// - Throws: `invalidHuffmanCode` when over-subscribed or when `lengths` has a length above 15.
    @discardableResult
    func build(lengths: UnsafeBufferPointer<UInt8>, name: String) throws -> Shape {
        precondition(lengths.count <= symbolCapacity, "at most \(symbolCapacity) symbols, got \(lengths.count)")
        for length in 0..<16 { counts[length] = 0 }
        for length in lengths {
            guard length <= 15 else { throw HuffmanBuildError(reason: "\(name) code length \(length) exceeds 15") }
            counts[Int(length)] += 1
        }
        // Check the code is not over-subscribed; note whether it is incomplete.
        var left = 1
        for length in 1..<16 {
            left <<= 1
            left -= Int(counts[length])
            guard left >= 0 else { throw HuffmanBuildError(reason: "\(name) code is over-subscribed") }
        }
        // Offsets of the first symbol of each length in canonical order.
        var offsets = [Int](repeating: 0, count: 16)
        for length in 1..<15 { offsets[length + 1] = offsets[length] + Int(counts[length]) }
        for (symbol, length) in lengths.enumerated() where length != 0 {
            symbols[offsets[Int(length)]] = UInt16(symbol)
            offsets[Int(length)] += 1
        }
        // Fill the lookup table: the code is read LSB-first, so index by the bit-reversed code.
        fast.initialize(repeating: 0, count: 1 << Self.fastBits)
        var code = 0
        var index = 0
        for length in 1...15 {
            let count = Int(counts[length])
            if length <= Self.fastBits {
                for _ in 0..<count {
                    let symbol = symbols[index]
                    let reversed = Self.reverse(code, bits: length)
                    let entry = UInt16(symbol) << 4 | UInt16(length)
                    var slot = reversed
                    while slot < 1 << Self.fastBits {
                        fast[slot] = entry
                        slot += 1 << length
                    }
                    code += 1
                    index += 1
                }
            } else {
                code += count
                index += count
            }
            code <<= 1
        }
        return left == 0 ? .complete : .incomplete
    }

    /// `value`'s low `bits` bits in reverse order.
    @inline(__always)
    static func reverse(_ value: Int, bits: Int) -> Int {
        var result = 0
        var value = value
        for _ in 0..<bits {
            result = result << 1 | value & 1
            value >>= 1
        }
        return result
    }

    /// Decodes a code longer than the fast table from `bits` (LSB first).
    /// - Returns: `(symbol, length)`, or nil when the bits are not a code of this table.
    func decodeSlow(_ bits: UInt64) -> (symbol: Int, length: Int)? {
        var code = 0, first = 0, index = 0
        var bits = bits
        for length in 1...15 {
            code |= Int(bits & 1)
            bits >>= 1
            let count = Int(counts[length])
            if code - first < count { return (Int(symbols[index + code - first]), length) }
            index += count
            first += count
            first <<= 1
            code <<= 1
        }
        return nil
    }
}

/// A malformed code-length description (converted to ``GzipError`` by the inflater, which knows the offset).
struct HuffmanBuildError: Error {
    let reason: String
}
