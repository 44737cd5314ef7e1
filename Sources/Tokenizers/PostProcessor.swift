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
                specials[name] = try special["ids"].array().map { try $0.nonNegativeInt() }
            }
            var pieces: [Piece] = []
            for item in try node["single"].array() {
                if !item["Sequence"].isNull {
                    _ = try item["Sequence"]["id"].string()
                    pieces.append(.sequence)
                } else if !item["SpecialToken"].isNull {
                    let nameNode = item["SpecialToken"]["id"]
                    let name = try nameNode.string()
                    guard let ids = specials[name] else {
                        throw TokenizerError.invalidValue(
                            path: nameNode.path, reason: "'\(name)' is not listed in \(node["special_tokens"].path)")
                    }
                    pieces.append(.special(ids))
                } else {
                    throw TokenizerError.invalidValue(path: item.path, reason: "expected {\"Sequence\": …} or {\"SpecialToken\": …}")
                }
            }
            self = .template(pieces)
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
            self = .identity
        default:  // "Sequence"
            self = .sequence(try node["processors"].array().map { try PostProcessor(node: $0) })
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
