/// Adds special tokens around an encoded sequence (HF `post_processor`), for `addSpecialTokens: true`.
indirect enum PostProcessor {
    /// A template item: the sequence itself, or the ids of a named special token.
    enum Piece {
        case sequence
        case special([Int])
    }

    /// `TemplateProcessing`'s single-sequence template (pairs are not encoded by this library).
    case template([Piece])
    /// `cls` ids + sequence + `sep` ids (Roberta and Bert single sequences look the same).
    case wrap(prefix: [Int], suffix: [Int])
    /// ByteLevel only trims offsets; ids are unchanged.
    case identity
    case sequence([PostProcessor])

    static let supportedTypes = ["TemplateProcessing", "RobertaProcessing", "BertProcessing", "ByteLevel", "Sequence"]

    /// Builds a post-processor from its `tokenizer.json` object.
    /// - Throws: `TokenizerError` naming the offending JSON path.
    init(node: JSONNode) throws {
        switch try node.typeTag(supported: PostProcessor.supportedTypes) {
        case "TemplateProcessing":
            var specials: [String: [Int]] = [:]
            for (name, special) in try node["special_tokens"].members() {
                _ = try special["id"].string()
                _ = try special["tokens"].array().map { try $0.string() }
                specials[name] = try special["ids"].array().map { try $0.nonNegativeInt() }
            }
            // The pair template is validated but unused: this library encodes single sequences.
            if !node["pair"].isNull { _ = try PostProcessor.template(node["pair"], specials: specials, owner: node) }
            self = .template(try PostProcessor.template(node["single"], specials: specials, owner: node))
        case "RobertaProcessing", "BertProcessing":
            func idOf(_ key: String) throws -> Int {
                let pair = try node[key].array()
                guard pair.count == 2 else {
                    throw TokenizerError.invalidValue(path: node[key].path, reason: "expected [token, id]")
                }
                return try pair[1].nonNegativeInt()
            }
            self = .wrap(prefix: [try idOf("cls")], suffix: [try idOf("sep")])
        case "ByteLevel":
            for flag in ["add_prefix_space", "trim_offsets", "use_regex"] { _ = try node[flag].bool(default: false) }
            self = .identity
        default:  // "Sequence"
            self = .sequence(try node["processors"].array().map { try PostProcessor(node: $0) })
        }
    }

    /// Reads a template: `[{"SpecialToken": {"id": name, "type_id": n}}, {"Sequence": {"id": "A", "type_id": n}}, …]`.
    private static func template(_ node: JSONNode, specials: [String: [Int]], owner: JSONNode) throws -> [Piece] {
        try node.array().map { item in
            let sequence = item["Sequence"], special = item["SpecialToken"]
            if !sequence.isNull {
                _ = try sequence["id"].string()
                _ = try sequence["type_id"].nonNegativeInt(default: 0)
                return .sequence
            }
            guard !special.isNull else {
                throw TokenizerError.invalidValue(path: item.path, reason: "expected {\"Sequence\": …} or {\"SpecialToken\": …}")
            }
            _ = try special["type_id"].nonNegativeInt(default: 0)
            let nameNode = special["id"]
            let name = try nameNode.string()
            guard let ids = specials[name] else {
                throw TokenizerError.invalidValue(
                    path: nameNode.path, reason: "'\(name)' is not listed in \(owner["special_tokens"].path)")
            }
            return .special(ids)
        }
    }

    /// Returns `ids` with the special tokens of a single sequence added.
    func callAsFunction(_ ids: [Int]) -> [Int] {
        switch self {
        case let .template(pieces):
            var result: [Int] = []
            result.reserveCapacity(ids.count + pieces.count)
            for piece in pieces {
                switch piece {
                case .sequence: result.append(contentsOf: ids)
                case let .special(specialIds): result.append(contentsOf: specialIds)
                }
            }
            return result
        case let .wrap(prefix, suffix):
            return prefix + ids + suffix
        case .identity:
            return ids
        case let .sequence(steps):
            return steps.reduce(ids) { $1($0) }
        }
    }

    /// Every id this post-processor can add.
    var specialIds: [Int] {
        switch self {
        case let .template(pieces):
            return pieces.flatMap { piece -> [Int] in if case let .special(ids) = piece { return ids } else { return [] } }
        case let .wrap(prefix, suffix): return prefix + suffix
        case .identity: return []
        case let .sequence(steps): return steps.flatMap(\.specialIds)
        }
    }

    /// How many ids `callAsFunction` adds (HF `added_tokens(is_pair: false)`), which truncation reserves.
    var addedCount: Int {
        let surrounding = surroundingIds
        return surrounding.leading.count + surrounding.trailing.count
    }

    /// Special token ids the template puts before and after the sequence (for bos/eos discovery).
    var surroundingIds: (leading: [Int], trailing: [Int]) {
        switch self {
        case let .template(pieces):
            guard let sequenceIndex = pieces.firstIndex(where: { if case .sequence = $0 { return true } else { return false } }) else {
                return ([], [])
            }
            func ids(_ slice: ArraySlice<Piece>) -> [Int] {
                slice.flatMap { piece -> [Int] in if case let .special(ids) = piece { return ids } else { return [] } }
            }
            return (ids(pieces[..<sequenceIndex]), ids(pieces[(sequenceIndex + 1)...]))
        case let .wrap(prefix, suffix):
            return (prefix, suffix)
        case .identity:
            return ([], [])
        case let .sequence(steps):
            return steps.reduce(into: ([Int](), [Int]())) { result, step in
                let surrounding = step.surroundingIds
                result.0 = surrounding.leading + result.0
                result.1 += surrounding.trailing
            }
        }
    }
}
