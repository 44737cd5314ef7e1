/// `tokenizer.json`'s `truncation`: encodings longer than `maximumLength` are cut, like HF does
/// inside `encode` (before the post-processor, leaving room for its special tokens).
struct Truncation {
    enum Direction: String, CaseIterable {
        case right = "Right"
        case left = "Left"
    }

    let maximumLength: Int
    let direction: Direction

    static let supportedStrategies = ["LongestFirst", "OnlyFirst", "OnlySecond"]

    /// Reads the `truncation` object.
    /// - Throws: `TokenizerError` naming the offending JSON path.
    init(node: JSONNode) throws {
        maximumLength = try node["max_length"].nonNegativeInt()
        let directionNode = node["direction"]
        let name = try directionNode.optionalString() ?? "Right"
        guard let direction = Direction(rawValue: name) else {
            throw TokenizerError.unsupported(path: directionNode.path, value: name, supported: Direction.allCases.map(\.rawValue))
        }
        self.direction = direction
        if let strategy = try node["strategy"].optionalString(), !Truncation.supportedStrategies.contains(strategy) {
            throw TokenizerError.unsupported(path: node["strategy"].path, value: strategy, supported: Truncation.supportedStrategies)
        }
        _ = try node["stride"].nonNegativeInt(default: 0)
    }

    /// Cuts `ids` to fit, keeping room for `reserved` special tokens.
    func callAsFunction(_ ids: [Int], reserving reserved: Int) -> [Int] {
        let limit = max(0, maximumLength - reserved)
        guard ids.count > limit else { return ids }
        switch direction {
        case .right: return Array(ids.prefix(limit))
        case .left: return Array(ids.suffix(limit))
        }
    }
}
