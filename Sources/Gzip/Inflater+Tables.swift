extension Inflater {
    /// Order in which code-length code lengths are transmitted (RFC 1951 §3.2.7).
    static let codeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

    /// The fixed literal/length and distance codes of block type 1 (RFC 1951 §3.2.6).
    static func makeFixedTables() -> (HuffmanTable, HuffmanTable) {
        var literalLengths = [UInt8](repeating: 8, count: 288)
        for symbol in 144..<256 { literalLengths[symbol] = 9 }
        for symbol in 256..<280 { literalLengths[symbol] = 7 }
        let distanceLengths = [UInt8](repeating: 5, count: 30)
        let literals = HuffmanTable()
        let distances = HuffmanTable()
        // Both are valid by construction (the distance code is incomplete by design: codes 30/31 are unused).
        _ = try? literalLengths.withUnsafeBufferPointer { try literals.build(lengths: $0, name: "fixed literal/length") }
        _ = try? distanceLengths.withUnsafeBufferPointer { try distances.build(lengths: $0, name: "fixed distance") }
        return (literals, distances)
    }

    /// Reads a dynamic block's code descriptions (RFC 1951 §3.2.7) into the dynamic tables.
    func readDynamicTables() throws {
        let literalCount = try take(5) + 257
        let distanceCount = try take(5) + 1
        let codeLengthCount = try take(4) + 4
        guard literalCount <= 286 else { throw error(.invalidHuffmanCode("\(literalCount) literal/length codes (max 286)")) }
        guard distanceCount <= 30 else { throw error(.invalidHuffmanCode("\(distanceCount) distance codes (max 30)")) }

        var codeLengthLengths = [UInt8](repeating: 0, count: 19)
        for index in 0..<codeLengthCount { codeLengthLengths[Self.codeLengthOrder[index]] = UInt8(try take(3)) }
        let codeLengths = HuffmanTable()
        let shape = try build(codeLengths, codeLengthLengths, "code-length")
        guard shape == .complete else { throw error(.invalidHuffmanCode("incomplete code-length code")) }

        var lengths = [UInt8](repeating: 0, count: literalCount + distanceCount)
        var index = 0
        while index < lengths.count {
            if bitCount < 16 { refill() }
            let entry = Int(codeLengths.fast[Int(bits & HuffmanTable.fastMask)])
            guard entry != 0 else { throw error(.invalidHuffmanCode("undefined code-length code")) }
            _ = try take(entry & 15)
            let symbol = entry >> 4
            if symbol < 16 {
                lengths[index] = UInt8(symbol)
                index += 1
                continue
            }
            let value: UInt8, repeatCount: Int
            switch symbol {
            case 16:
                guard index > 0 else { throw error(.invalidHuffmanCode("repeat code with no previous length")) }
                value = lengths[index - 1]
                repeatCount = 3 + (try take(2))
            case 17:
                value = 0
                repeatCount = 3 + (try take(3))
            default:
                value = 0
                repeatCount = 11 + (try take(7))
            }
            guard index + repeatCount <= lengths.count else {
                throw error(.invalidHuffmanCode("code-length repeat runs past the end"))
            }
            for _ in 0..<repeatCount {
                lengths[index] = value
                index += 1
            }
        }
        guard lengths[256] != 0 else { throw error(.invalidHuffmanCode("no end-of-block code")) }

        let literalLengths = Array(lengths[0..<literalCount])
        let distanceLengths = Array(lengths[literalCount...])
        // Incomplete codes are allowed only when they consist of a single one-bit code (zlib's rule).
        if try build(dynamicLiterals, literalLengths, "literal/length") == .incomplete,
            literalLengths.filter({ $0 != 0 }).count != Int(dynamicLiterals.counts[1])
        {
            throw error(.invalidHuffmanCode("incomplete literal/length code"))
        }
        if try build(dynamicDistances, distanceLengths, "distance") == .incomplete,
            distanceLengths.filter({ $0 != 0 }).count != Int(dynamicDistances.counts[1])
        {
            throw error(.invalidHuffmanCode("incomplete distance code"))
        }
    }

    /// Builds `table`, converting a build failure into a ``GzipError`` at the current offset.
    private func build(_ table: HuffmanTable, _ lengths: [UInt8], _ name: String) throws -> HuffmanTable.Shape {
        do {
            return try lengths.withUnsafeBufferPointer { try table.build(lengths: $0, name: name) }
        } catch let failure as HuffmanBuildError {
            throw error(.invalidHuffmanCode(failure.reason))
        }
    }
}
