/// Text reduced to what duplicate detection compares: ASCII letters lower-cased, every run of white space one space,
/// no leading or trailing space (other bytes kept as they are), as UTF-8 bytes.
struct NormalisedText: Hashable {
    let bytes: [UInt8]

    init(_ text: String) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var pendingSpace = false
        for byte in text.utf8 {
            switch byte {
            case 0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D:
                pendingSpace = !bytes.isEmpty
            default:
                if pendingSpace { bytes.append(0x20) }
                pendingSpace = false
                bytes.append(byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte)
            }
        }
        self.bytes = bytes
    }

    var isEmpty: Bool { bytes.isEmpty }

    /// A 64-bit FNV-1a hash: the key of exact comparisons (prompts, responses) within one audit.
    var hash64: UInt64 { Self.fnv(bytes[...]) }

    /// Hashes of the word `size`-grams (whole text as one shingle when it has fewer words), for MinHash.
    func shingleHashes(size: Int) -> [UInt64] {
        var wordStarts: [Int] = []
        var start = 0
        for (index, byte) in bytes.enumerated() where byte == 0x20 {
            wordStarts.append(start)
            start = index + 1
        }
        if !bytes.isEmpty { wordStarts.append(start) }
        guard wordStarts.count > size else { return bytes.isEmpty ? [] : [Self.fnv(bytes[...])] }
        var hashes: [UInt64] = []
        hashes.reserveCapacity(wordStarts.count - size + 1)
        for first in 0...(wordStarts.count - size) {
            let end = first + size < wordStarts.count ? wordStarts[first + size] - 1 : bytes.count
            hashes.append(Self.fnv(bytes[wordStarts[first]..<end]))
        }
        return hashes
    }

    static func fnv(_ slice: ArraySlice<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in slice { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }
}
