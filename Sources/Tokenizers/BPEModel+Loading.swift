extension BPEModel {
    static let supportedModelTypes = ["BPE"]

    /// Reads the `model` object of a `tokenizer.json`.
    /// - Throws: `TokenizerError` naming the JSON path of a missing, mistyped or inconsistent field
    ///   (for example a merge whose tokens are not in the vocabulary).
    convenience init(node: JSONNode) throws {
        // Old files omit `type`; a `merges` member identifies BPE then.
        if !node["type"].isNull || node["merges"].isNull {
            _ = try node.typeTag(supported: BPEModel.supportedModelTypes)
        }
        let dropoutNode = node["dropout"]
        if !dropoutNode.isNull, try dropoutNode.double() > 0 {
            throw TokenizerError.unsupported(
                path: dropoutNode.path, value: String(try dropoutNode.double()),
                supported: ["null", "0 (deterministic encoding)"])
        }

        var vocabulary: [TokenKey: Int] = [:]
        let vocabularyNode = node["vocab"]
        let vocabularyMembers = try vocabularyNode.members()
        vocabulary.reserveCapacity(vocabularyMembers.count)
        for (token, idNode) in vocabularyMembers {
            vocabulary[TokenKey(token)] = try idNode.nonNegativeInt()
        }

        let prefix = try node["continuing_subword_prefix"].optionalString()
        var merges: [UInt64: Merge] = [:]
        let mergeNodes = try node["merges"].array()
        merges.reserveCapacity(mergeNodes.count)
        for (rank, mergeNode) in mergeNodes.enumerated() {
            let (left, right) = try BPEModel.mergePair(mergeNode)
            func lookup(_ token: String) throws -> Int32 {
                guard let id = vocabulary[TokenKey(token)] else {
                    throw TokenizerError.invalidValue(
                        path: mergeNode.path, reason: "token '\(token)' is not in \(vocabularyNode.path)")
                }
                return Int32(id)
            }
            var rightPart = right
            if let prefix = prefix, right.bytesHavePrefix(prefix) {
                rightPart = String(decoding: Array(right.utf8).dropFirst(prefix.utf8.count), as: UTF8.self)
            }
            let pair = BPEModel.pairKey(try lookup(left), try lookup(right))
            merges[pair] = Merge(rank: Int32(rank), result: try lookup(left + rightPart))
        }

        self.init(
            vocabulary: vocabulary, merges: merges,
            unknownToken: try node["unk_token"].optionalString(),
            continuingSubwordPrefix: prefix,
            endOfWordSuffix: try node["end_of_word_suffix"].optionalString(),
            fuseUnknown: try node["fuse_unk"].bool(default: false),
            byteFallback: try node["byte_fallback"].bool(default: false),
            ignoreMerges: try node["ignore_merges"].bool(default: false))
    }

    /// A merge is `"left right"` (older files) or `["left", "right"]`.
    static func mergePair(_ node: JSONNode) throws -> (String, String) {
        switch node.value {
        case let .some(.string(line)):
            // Split on scalars: a space followed by a combining mark is one Swift Character.
            let parts = line.unicodeScalars.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw TokenizerError.invalidValue(path: node.path, reason: "a merge string must be two tokens separated by one space")
            }
            return (String(String.UnicodeScalarView(parts[0])), String(String.UnicodeScalarView(parts[1])))
        case let .some(.array(items)):
            guard items.count == 2, case let .string(left) = items[0], case let .string(right) = items[1] else {
                throw TokenizerError.invalidValue(path: node.path, reason: "a merge array must hold exactly two strings")
            }
            return (left, right)
        default:
            throw TokenizerError.wrongType(
                path: node.path, expected: "a string or a two-string array", found: node.value?.describedType ?? "missing")
        }
    }
}
