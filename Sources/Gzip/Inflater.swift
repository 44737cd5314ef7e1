/// A resumable raw DEFLATE (RFC 1951) decoder over an in-memory input.
///
/// Output goes into a sliding window of ``historySize`` bytes of history plus room for one chunk, so arbitrarily
/// large streams decode in constant memory: ``decode()`` fills the window up to the chunk limit and returns;
/// the caller consumes ``pending`` and calls it again. Bits are read LSB-first from a 64-bit buffer; past the
/// end of input the buffer is padded with zero bits that are counted, so over-reads are detected as truncation.
final class Inflater {
    /// DEFLATE's maximum back-reference distance.
    static let historySize = 32768
    /// The longest match.
    static let maximumMatch = 258

    let input: InputBuffer
    let name: String

    // Bit reader state.
    var position: Int
    var bits: UInt64 = 0
    var bitCount = 0
    /// Zero bits appended past the end of the input (never consumed in a valid stream).
    var virtualBits = 0

    // Output window.
    let window: UnsafeMutablePointer<UInt8>
    let capacity: Int
    var outputCount = 0
    var chunkStart = 0

    // Block state.
    enum BlockState { case header, stored(remaining: Int), huffman }
    var state = BlockState.header
    var sawFinalBlock = false
    /// The final block has been decoded completely.
    private(set) var finished = false

    let dynamicLiterals = HuffmanTable()
    let dynamicDistances = HuffmanTable()
    lazy var fixedTables: (HuffmanTable, HuffmanTable) = Self.makeFixedTables()
    var literals: HuffmanTable
    var distances: HuffmanTable

    /// Base lengths/distances and extra-bit counts per symbol (RFC 1951 §3.2.5).
    let lengthBase: UnsafeMutablePointer<UInt16>
    let lengthExtra: UnsafeMutablePointer<UInt8>
    let distanceBase: UnsafeMutablePointer<UInt16>
    let distanceExtra: UnsafeMutablePointer<UInt8>

    /// Creates a decoder for the DEFLATE stream starting at byte `start` of `input`.
    /// - Parameter chunkSize: Output bytes produced per ``decode()`` call (at most).
    init(input: InputBuffer, name: String, start: Int, chunkSize: Int = 1 << 18) {
        self.input = input
        self.name = name
        position = start
        capacity = Self.historySize + chunkSize + Self.maximumMatch
        window = .allocate(capacity: capacity)
        literals = dynamicLiterals
        distances = dynamicDistances
        lengthBase = .allocate(capacity: 29)
        lengthExtra = .allocate(capacity: 29)
        distanceBase = .allocate(capacity: 30)
        distanceExtra = .allocate(capacity: 30)
        let lengthBases: [UInt16] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
        let lengthExtras: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
        let distanceBases: [UInt16] = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
        let distanceExtras: [UInt8] = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]
        lengthBase.initialize(from: lengthBases, count: 29)
        lengthExtra.initialize(from: lengthExtras, count: 29)
        distanceBase.initialize(from: distanceBases, count: 30)
        distanceExtra.initialize(from: distanceExtras, count: 30)
    }

    deinit {
        window.deallocate()
        lengthBase.deallocate()
        lengthExtra.deallocate()
        distanceBase.deallocate()
        distanceExtra.deallocate()
    }

    /// Starts a new stream (e.g. the next gzip member) at byte `start`, with no history.
    func reset(start: Int) {
        position = start
        bits = 0
        bitCount = 0
        virtualBits = 0
        outputCount = 0
        chunkStart = 0
        state = .header
        sawFinalBlock = false
        finished = false
    }

    /// Decoded bytes not yet handed to the caller.
    var pending: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: window + chunkStart, count: outputCount - chunkStart)
    }

    /// Offset of the input byte holding the next unread bit (where errors are reported).
    var bytePosition: Int { position - (max(0, bitCount - virtualBits) + 7) / 8 }

    func error(_ reason: GzipError.Reason) -> GzipError {
        GzipError(file: name, offset: min(bytePosition, input.count), reason: reason)
    }

    // MARK: Bit reader

    /// Tops the bit buffer up to at least 57 bits.
    @inline(__always)
    func refill() {
        if position + 8 <= input.count {
            let word = UInt64(littleEndian: input.base.loadUnaligned(fromByteOffset: position, as: UInt64.self))
            bits |= word << UInt64(bitCount)
            let taken = (63 - bitCount) >> 3
            position += taken
            bitCount += taken << 3
        } else {
            while bitCount <= 56 {
                if position < input.count {
                    bits |= UInt64(input.base.load(fromByteOffset: position, as: UInt8.self)) << UInt64(bitCount)
                    position += 1
                } else {
                    virtualBits += 8
                }
                bitCount += 8
            }
        }
    }

    /// Consumes and returns `count` (≤ 32) bits.
    /// - Throws: `.truncated` when the bits lie past the end of the input.
    @inline(__always)
    func take(_ count: Int) throws -> Int {
        if bitCount < count { refill() }
        let value = Int(bits & ((1 << UInt64(count)) - 1))
        bits >>= UInt64(count)
        bitCount -= count
        if virtualBits > bitCount { throw error(.truncated) }
        return value
    }

    /// Discards bits up to the next byte boundary and returns buffered whole bytes to the input.
    func alignAndRewind() throws {
        let partial = bitCount & 7
        bits >>= UInt64(partial)
        bitCount -= partial
        let real = bitCount - virtualBits
        guard real >= 0 else { throw error(.truncated) }
        position -= real / 8
        bits = 0
        bitCount = 0
        virtualBits = 0
    }

    // MARK: Decoding

    /// Decodes until about one chunk of output is pending or the stream ends.
    /// - Throws: ``GzipError`` for corrupt or truncated data.
    func decode() throws {
        if chunkStart > Self.historySize {
            // Keep the last 32 KiB as history for back-references; everything before was handed out.
            let keep = Self.historySize
            (window).update(from: window + (outputCount - keep), count: keep)
            outputCount = keep
            chunkStart = keep
        }
        let limit = capacity - Self.maximumMatch
        while outputCount < limit && !finished {
            switch state {
            case .header:
                if sawFinalBlock {
                    try alignAndRewind()
                    finished = true
                } else {
                    try readBlockHeader()
                }
            case .stored(let remaining):
                let available = input.count - position
                guard available > 0 else { throw error(.truncated) }
                let count = min(remaining, limit - outputCount, available)
                (window + outputCount).initialize(
                    from: input.base.advanced(by: position).assumingMemoryBound(to: UInt8.self), count: count)
                outputCount += count
                position += count
                state = remaining == count ? .header : .stored(remaining: remaining - count)
            case .huffman:
                if try decodeSymbols(limit: limit) { state = .header }
            }
        }
    }

    private func readBlockHeader() throws {
        let header = try take(3)
        sawFinalBlock = header & 1 == 1
        switch header >> 1 {
        case 0:
            try alignAndRewind()
            guard position + 4 <= input.count else { throw error(.truncated) }
            let length = Int(input.base.load(fromByteOffset: position, as: UInt8.self))
                | Int(input.base.load(fromByteOffset: position + 1, as: UInt8.self)) << 8
            let complement = Int(input.base.load(fromByteOffset: position + 2, as: UInt8.self))
                | Int(input.base.load(fromByteOffset: position + 3, as: UInt8.self)) << 8
            guard length == ~complement & 0xFFFF else { throw error(.invalidStoredLength) }
            position += 4
            state = length == 0 ? .header : .stored(remaining: length)
        case 1:
            (literals, distances) = fixedTables
            state = .huffman
        case 2:
            try readDynamicTables()
            literals = dynamicLiterals
            distances = dynamicDistances
            state = .huffman
        default:
            throw error(.invalidBlockType)
        }
    }

    /// The inner loop: literal/length and distance symbols until end of block or `limit` bytes of output.
    /// - Returns: Whether the end-of-block symbol was reached.
    private func decodeSymbols(limit: Int) throws -> Bool {
        let literalFast = literals.fast
        let distanceFast = distances.fast
        let window = self.window
        var output = outputCount
        defer { outputCount = output }
        while output < limit {
            refill()  // ≥ 57 bits: enough for the longest length+distance pair (48 bits)
            var entry = Int(literalFast[Int(bits & HuffmanTable.fastMask)])
            var symbol: Int, length: Int
            if entry != 0 {
                symbol = entry >> 4
                length = entry & 15
            } else {
                guard let slow = literals.decodeSlow(bits) else { throw error(.invalidHuffmanCode("undefined literal/length code")) }
                (symbol, length) = slow
            }
            bits >>= UInt64(length)
            bitCount -= length
            if symbol < 256 {
                window[output] = UInt8(truncatingIfNeeded: symbol)
                output += 1
                continue
            }
            if symbol == 256 {
                if virtualBits > bitCount { throw error(.truncated) }
                return true
            }
            symbol -= 257
            guard symbol < 29 else { throw error(.invalidHuffmanCode("length symbol \(symbol + 257)")) }
            var extra = Int(lengthExtra[symbol])
            let matchLength = Int(lengthBase[symbol]) + Int(bits & ((1 << UInt64(extra)) - 1))
            bits >>= UInt64(extra)
            bitCount -= extra

            entry = Int(distanceFast[Int(bits & HuffmanTable.fastMask)])
            if entry != 0 {
                symbol = entry >> 4
                length = entry & 15
            } else {
                guard let slow = distances.decodeSlow(bits) else { throw error(.invalidHuffmanCode("undefined distance code")) }
                (symbol, length) = slow
            }
            bits >>= UInt64(length)
            bitCount -= length
            guard symbol < 30 else { throw error(.invalidHuffmanCode("distance symbol \(symbol)")) }
            extra = Int(distanceExtra[symbol])
            let distance = Int(distanceBase[symbol]) + Int(bits & ((1 << UInt64(extra)) - 1))
            bits >>= UInt64(extra)
            bitCount -= extra
            if virtualBits > bitCount { throw error(.truncated) }
            guard distance <= output else { throw error(.distanceTooFarBack(distance: distance, available: output)) }

            let source = window + (output - distance)
            let destination = window + output
            if distance >= matchLength {
                destination.update(from: source, count: matchLength)
            } else {
                // Overlapping copy repeats the last `distance` bytes (run-length style); must go byte by byte.
                for index in 0..<matchLength { destination[index] = source[index] }
            }
            output += matchLength
        }
        if virtualBits > bitCount { throw error(.truncated) }
        return false
    }
}
