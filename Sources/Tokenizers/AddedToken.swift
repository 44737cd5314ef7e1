/// A token from `tokenizer.json`'s `added_tokens`, matched in the text before the model runs.
public struct AddedToken: Equatable, Sendable {
    /// The token's id.
    public let id: Int
    /// The exact text that is matched.
    public let content: String
    /// Special tokens (`<s>`, `<|im_start|>`) are dropped by `decode(_:skipSpecialTokens: true)`.
    public let isSpecial: Bool
    /// Only match when not inside a word (no word character on either side).
    public let singleWord: Bool
    /// Also consume whitespace on the left of a match.
    public let leftStrip: Bool
    /// Also consume whitespace on the right of a match.
    public let rightStrip: Bool
    /// Match against the normalized text instead of the raw input.
    public let normalized: Bool

    init(id: Int, content: String, isSpecial: Bool, singleWord: Bool = false, leftStrip: Bool = false,
                rightStrip: Bool = false, normalized: Bool = false) {
        self.id = id
        self.content = content
        self.isSpecial = isSpecial
        self.singleWord = singleWord
        self.leftStrip = leftStrip
        self.rightStrip = rightStrip
        self.normalized = normalized
    }

    public static func == (lhs: AddedToken, rhs: AddedToken) -> Bool {
        lhs.id == rhs.id && lhs.content.bytesEqual(rhs.content) && lhs.isSpecial == rhs.isSpecial
            && lhs.singleWord == rhs.singleWord && lhs.leftStrip == rhs.leftStrip && lhs.rightStrip == rhs.rightStrip
            && lhs.normalized == rhs.normalized
    }

    /// Reads one entry of `added_tokens`.
    init(node: JSONNode) throws {
        let content = try node["content"].string()
        guard !content.isEmpty else {
            throw TokenizerError.invalidValue(path: node["content"].path, reason: "an added token cannot be empty")
        }
        let special = try node["special"].bool(default: false)
        self.init(
            id: try node["id"].nonNegativeInt(), content: content, isSpecial: special,
            singleWord: try node["single_word"].bool(default: false),
            leftStrip: try node["lstrip"].bool(default: false),
            rightStrip: try node["rstrip"].bool(default: false),
            normalized: try node["normalized"].bool(default: !special))
    }
}
