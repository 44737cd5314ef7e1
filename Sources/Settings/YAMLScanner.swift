/// The pre-scan's state, line by line.
struct YAMLScanner {
    /// A node whose size is being measured because an anchor names it.
    struct Frame {
        enum Extent {
            /// Ends when the flow depth returns to this value.
            case flow(Int)
            /// Ends at the first line indented at most `indent` (a `- ` line at `indent` still belongs when allowed).
            case block(indent: Int, allowsSequenceAtIndent: Bool)
            /// Ends after the next token.
            case token
        }
        var name: String
        var extent: Extent
        /// Nodes read so far: collections, scalars, and what aliases stand for.
        var size = 0
    }

    let bytes: [UInt8]
    let file: String
    let limits: YAMLLimits
    var line = 0
    var position = 0
    var flowDepth = 0
    var blockIndents: [Int] = []
    /// Anchor sizes by name (the latest definition wins, as in YAML).
    var anchors: [String: Int] = [:]
    var frames: [Frame] = []
    var expansion = 0
    /// Inside a quoted scalar that continues on the next line (its quote character).
    var openQuote: UInt8?
    /// Inside a block scalar (`|`, `>`): lines indented more than this belong to it.
    var blockScalarIndent: Int?

    init(bytes: [UInt8], file: String, limits: YAMLLimits) {
        self.bytes = bytes
        self.file = file
        self.limits = limits
    }

    func failure(_ message: String) -> YAMLLimitError { YAMLLimitError(file: file, line: line, message: message) }

    mutating func scan() throws {
        while position < bytes.count {
            var end = position
            while end < bytes.count && bytes[end] != 0x0A { end += 1 }
            line += 1
            try scanLine(position, end)
            position = end + 1
        }
        while let frame = frames.popLast() { anchors[frame.name] = frame.size }
    }

    mutating func scanLine(_ start: Int, _ end: Int) throws {
        var index = start
        while index < end && bytes[index] == 0x20 { index += 1 }
        let indent = index - start
        let isBlank = index == end || bytes[index] == UInt8(ascii: "#") || (index + 1 == end && bytes[index] == 0x0D)
        if let quote = openQuote {
            // The rest of a quoted scalar, then tokens after it.
            guard let after = closingQuote(quote, from: start, end) else { return }
            openQuote = nil
            try scanTokens(from: after, to: end, lineStart: start, indent: indent)
            return
        }
        if let scalarIndent = blockScalarIndent {
            if isBlank || indent > scalarIndent { return }
            blockScalarIndent = nil
        }
        if isBlank { return }
        if flowDepth == 0 {
            if bytes[index] == UInt8(ascii: "%") { return }  // a directive
            if startsDocument(index, end) {
                // `---` or `...`; a node may follow the marker on the same line.
                blockIndents.removeAll()
                try scanTokens(from: index + 3, to: end, lineStart: start, indent: indent)
                return
            }
            closeBlockFrames(indent: indent, startsWithDash: isIndicator(UInt8(ascii: "-"), at: index, end))
            while let last = blockIndents.last, last > indent { blockIndents.removeLast() }
            if blockIndents.last != indent { blockIndents.append(indent) }
        }
        try scanTokens(from: index, to: end, lineStart: start, indent: indent)
    }

    /// `---` (or `...`) at the start of a line.
    func startsDocument(_ index: Int, _ end: Int) -> Bool {
        guard end - index >= 3 else { return false }
        let marker = bytes[index]
        guard (marker == UInt8(ascii: "-") || marker == UInt8(ascii: ".")) && bytes[index + 1] == marker && bytes[index + 2] == marker
        else { return false }
        return end - index == 3 || [0x20, 0x09, 0x0D].contains(bytes[index + 3])
    }

    /// `character` followed by a space or the end of the line (a `- ` entry, `? ` key or `: ` separator).
    func isIndicator(_ character: UInt8, at index: Int, _ end: Int) -> Bool {
        index < end && bytes[index] == character && (index + 1 == end || [0x20, 0x09, 0x0D].contains(bytes[index + 1]))
    }

    /// Ends the block nodes an anchor named whose extent a line indented `indent` leaves.
    mutating func closeBlockFrames(indent: Int, startsWithDash: Bool) {
        while let frame = frames.last, case let .block(limit, allowsSequence) = frame.extent {
            if indent > limit || (allowsSequence && indent == limit && startsWithDash) { return }
            anchors[frame.name] = frame.size
            frames.removeLast()
        }
    }

    /// Adds `size` nodes to every node being measured, and ends a frame that measures one token.
    mutating func count(_ size: Int) {
        for index in frames.indices { frames[index].size += size }
        while let frame = frames.last, case .token = frame.extent {
            anchors[frame.name] = frame.size
            frames.removeLast()
        }
    }

    mutating func checkDepth(_ depth: Int) throws {
        if depth > limits.maximumDepth {
            throw failure("YAML nests deeper than \(limits.maximumDepth) levels (collections inside collections); "
                          + "no Charter file needs that many, so the file is damaged or hostile")
        }
    }
}
