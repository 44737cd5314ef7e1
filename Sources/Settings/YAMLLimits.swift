/// How deep YAML may nest and how far its aliases may expand, checked on the text before a YAML parser sees it.
public struct YAMLLimits: Equatable, Sendable {
    /// 128 levels: recipes, constitutions and endpoint files nest fewer than 10, and Yams parses (and decodes)
    /// recursively, so thousands of levels overflow the stack (5,000 crashed `charter`).
    public static let defaultMaximumDepth = 128
    /// 100,000 nodes: the largest real files hold a few thousand nodes, while nine levels of ten aliases each
    /// ("billion laughs") expand to 10⁹ and took 6.6 GB.
    public static let defaultMaximumAliasExpansion = 100_000

    /// Collections (block or flow) inside one another.
    public var maximumDepth: Int
    /// Nodes that aliases (`*name`, `<<: *name`) add when expanded, summed over every alias in the text.
    public var maximumAliasExpansion: Int

    public init(maximumDepth: Int = defaultMaximumDepth, maximumAliasExpansion: Int = defaultMaximumAliasExpansion) {
        self.maximumDepth = maximumDepth
        self.maximumAliasExpansion = maximumAliasExpansion
    }
}
