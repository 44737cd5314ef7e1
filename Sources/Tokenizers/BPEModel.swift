import Foundation

/// Byte-pair-encoding model (HF `model.type = "BPE"`): turns one pre-token into token ids by
/// starting from its characters and applying the ranked merges, lowest rank first.
final class BPEModel: @unchecked Sendable {
    /// The rank of a merge and the id of the token it produces.
    struct Merge {
        let rank: Int32
        let result: Int32
    }

    let vocabulary: [TokenKey: Int]
    let tokensById: [Int: String]
    /// Keyed by `pairKey(left, right)`.
    let merges: [UInt64: Merge]
    let unknownToken: String?
    let continuingSubwordPrefix: String?
    let endOfWordSuffix: String?
    let fuseUnknown: Bool
    let byteFallback: Bool
    /// Llama-3: a pre-token that is itself in the vocabulary is emitted whole, skipping the merges.
    let ignoreMerges: Bool

    /// Id of the byte-level character for each byte, or -1.
    private let byteLevelIds: [Int32]
    /// Id of `<0xNN>` for each byte, or -1.
    private let byteFallbackIds: [Int32]
    private let cache = PieceCache()
    /// Pieces this long (bytes) or longer are not cached, as in HF.
    static let maximumCachedLength = 256

    init(vocabulary: [TokenKey: Int], merges: [UInt64: Merge], unknownToken: String?, continuingSubwordPrefix: String?,
         endOfWordSuffix: String?, fuseUnknown: Bool, byteFallback: Bool, ignoreMerges: Bool) {
        self.vocabulary = vocabulary
        var tokensById: [Int: String] = [:]
        for (key, id) in vocabulary { tokensById[id] = key.string }
        self.tokensById = tokensById
        self.merges = merges
        self.unknownToken = unknownToken
        self.continuingSubwordPrefix = continuingSubwordPrefix
        self.endOfWordSuffix = endOfWordSuffix
        self.fuseUnknown = fuseUnknown
        self.byteFallback = byteFallback
        self.ignoreMerges = ignoreMerges
        byteLevelIds = ByteLevelAlphabet.strings.map { Int32(vocabulary[TokenKey($0)] ?? -1) }
        byteFallbackIds = (0..<256).map { byte in
            Int32(vocabulary[TokenKey(BPEModel.byteFallbackToken(UInt8(byte)))] ?? -1)
        }
    }

    /// `<0x0A>`-style token for a byte.
    static func byteFallbackToken(_ byte: UInt8) -> String {
        let hex = String(byte, radix: 16, uppercase: true)
        return "<0x" + (hex.count == 1 ? "0" + hex : hex) + ">"
    }

    @inline(__always)
    static func pairKey(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    func tokenId(_ token: String) -> Int? { vocabulary[TokenKey(token)] }

    /// Appends the ids of one pre-token.
    func encode(_ piece: PreToken, into ids: inout [Int]) {
        if piece.text.isEmpty { return }
        let key = TokenKey(piece.text)
        if let hit = cache.lookup(key, byteLevel: piece.isByteLevel) {
            ids.append(contentsOf: hit)
            return
        }
        let result = encodeUncached(piece)
        if piece.text.utf8.count < BPEModel.maximumCachedLength {
            cache.store(result, for: key, byteLevel: piece.isByteLevel)
        }
        ids.append(contentsOf: result)
    }

    private func encodeUncached(_ piece: PreToken) -> [Int] {
        let word = piece.modelText
        if ignoreMerges, let id = vocabulary[TokenKey(word)] { return [id] }
        var symbols: [Int32]
        if piece.isByteLevel, continuingSubwordPrefix == nil, endOfWordSuffix == nil,
            let direct = directByteLevelSymbols(piece.text)
        {
            symbols = direct
        } else {
            symbols = initialSymbols(word)
        }
        applyMerges(&symbols)
        return symbols.map { Int($0) }
    }

    /// Initial symbols of a byte-level piece straight from its bytes (nil if a byte has no token).
    private func directByteLevelSymbols(_ raw: String) -> [Int32]? {
        var symbols: [Int32] = []
        symbols.reserveCapacity(raw.utf8.count)
        for byte in raw.utf8 {
            let id = byteLevelIds[Int(byte)]
            if id < 0 { return nil }
            symbols.append(id)
        }
        return symbols
    }

    /// One symbol per character, with HF's prefix/suffix, byte-fallback and unknown-token rules.
    private func initialSymbols(_ word: String) -> [Int32] {
        var symbols: [Int32] = []
        var pendingUnknown: Int32?
        let unknownId = unknownToken.flatMap { vocabulary[TokenKey($0)] }.map { Int32($0) }
        let scalars = Array(word.unicodeScalars)
        for (index, scalar) in scalars.enumerated() {
            var text = String(scalar)
            if index > 0, let prefix = continuingSubwordPrefix { text = prefix + text }
            if index == scalars.count - 1, let suffix = endOfWordSuffix { text += suffix }
            if let id = vocabulary[TokenKey(text)] {
                if let unknown = pendingUnknown {
                    symbols.append(unknown)
                    pendingUnknown = nil
                }
                symbols.append(Int32(id))
                continue
            }
            if byteFallback {
                let bytes = Array(text.utf8)
                if bytes.allSatisfy({ byteFallbackIds[Int($0)] >= 0 }) {
                    // HF appends byte tokens without flushing a pending unknown token first.
                    symbols.append(contentsOf: bytes.map { byteFallbackIds[Int($0)] })
                    continue
                }
            }
            guard let unknown = unknownId else { continue }
            if let pending = pendingUnknown, !fuseUnknown { symbols.append(pending) }
            pendingUnknown = unknown
        }
        if let unknown = pendingUnknown { symbols.append(unknown) }
        return symbols
    }
}

/// A thread-safe map from pre-token text to ids, cleared when it grows too large.
final class PieceCache: @unchecked Sendable {
    private var byteLevelEntries: [TokenKey: [Int]] = [:]
    private var textEntries: [TokenKey: [Int]] = [:]
    private let lock = NSLock()
    static let capacity = 200_000

    func lookup(_ key: TokenKey, byteLevel: Bool) -> [Int]? {
        lock.lock()
        defer { lock.unlock() }
        return byteLevel ? byteLevelEntries[key] : textEntries[key]
    }

    func store(_ ids: [Int], for key: TokenKey, byteLevel: Bool) {
        lock.lock()
        defer { lock.unlock() }
        if byteLevelEntries.count + textEntries.count >= PieceCache.capacity {
            byteLevelEntries.removeAll(keepingCapacity: true)
            textEntries.removeAll(keepingCapacity: true)
        }
        if byteLevel { byteLevelEntries[key] = ids } else { textEntries[key] = ids }
    }
}
