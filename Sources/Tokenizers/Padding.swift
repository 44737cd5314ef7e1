/// `tokenizer.json`'s `padding`: a single encoding is padded with `padId` to a fixed length and/or a
/// multiple of `multiple`, like HF does at the end of `encode`.
struct Padding {
    enum Direction: String, CaseIterable {
        case right = "Right"
        case left = "Left"
    }

    /// Pad to this length; nil for `BatchLongest` (a lone sequence is its own longest).
    let fixedLength: Int?
    let multiple: Int?
    let padId: Int
    let direction: Direction

    /// Longest padded length accepted (2²⁰ tokens, beyond any model's context Charter runs): `{"Fixed": 1000000000}`
    /// would otherwise allocate gigabytes for every encoded text.
    static let maximumLength = 1 << 20

    /// Reads the `padding` object.
    /// - Throws: `TokenizerError` naming the offending JSON path.
    init(node: JSONNode) throws {
        let strategy = node["strategy"]
        switch strategy.value {
        case .some(.string("BatchLongest")):
            fixedLength = nil
        case .some(.object):
            fixedLength = try Self.bounded(strategy["Fixed"])
        default:
            throw TokenizerError.wrongType(
                path: strategy.path, expected: "\"BatchLongest\" or {\"Fixed\": length}", found: strategy.value?.describedType ?? "missing")
        }
        let directionNode = node["direction"]
        let name = try directionNode.optionalString() ?? "Right"
        guard let direction = Direction(rawValue: name) else {
            throw TokenizerError.unsupported(path: directionNode.path, value: name, supported: Direction.allCases.map(\.rawValue))
        }
        self.direction = direction
        multiple = node["pad_to_multiple_of"].isNull ? nil : try Self.bounded(node["pad_to_multiple_of"])
        padId = try node["pad_id"].nonNegativeInt(default: 0)
        _ = try node["pad_token"].optionalString()
    }

    /// A length from `node`, at most ``maximumLength``.
    static func bounded(_ node: JSONNode) throws -> Int {
        let length = try node.nonNegativeInt()
        guard length <= maximumLength else {
            throw TokenizerError.invalidValue(path: node.path, reason: "\(length) is longer than the \(maximumLength) tokens a padded sequence may have")
        }
        return length
    }

    func callAsFunction(_ ids: [Int]) -> [Int] {
        var length = fixedLength ?? ids.count
        if let multiple = multiple, multiple > 0, length % multiple != 0 { length += multiple - length % multiple }
        guard ids.count < length else { return ids }
        let pad = [Int](repeating: padId, count: length - ids.count)
        return direction == .right ? ids + pad : pad + ids
    }
}
