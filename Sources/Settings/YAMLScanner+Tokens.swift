/// The tokens of one line: entries, separators, anchors, aliases, tags, flow brackets and scalars.
extension YAMLScanner {
    static let space: UInt8 = 0x20, tab: UInt8 = 0x09, carriageReturn: UInt8 = 0x0D
    static let flowIndicators: Set<UInt8> = Set(",[]{}".utf8)

    func isSpace(_ byte: UInt8) -> Bool { byte == Self.space || byte == Self.tab || byte == Self.carriageReturn }

    /// Scans the line's tokens from `index` (after indentation or a closed multi-line quote) to `end`.
    mutating func scanTokens(from start: Int, to end: Int, lineStart: Int, indent: Int) throws {
        var index = start
        var entries = 0  // `- ` and `? ` on this line: each opens a collection
        var keyColumn: Int?, entryColumn: Int?
        if flowDepth == 0 { try checkDepth(blockIndents.count) }
        while index < end {
            let byte = bytes[index]
            if isSpace(byte) {
                index += 1
                continue
            }
            let column = index - lineStart
            if byte == UInt8(ascii: "#") {
                return  // a comment (tokens start after whitespace)
            } else if (byte == UInt8(ascii: "-") || byte == UInt8(ascii: "?")) && flowDepth == 0 && isIndicator(byte, at: index, end) {
                entries += 1
                entryColumn = column
                try checkDepth(blockIndents.count + entries)
                count(1)
                index += 1
            } else if byte == UInt8(ascii: ":") && (flowDepth > 0 || isIndicator(byte, at: index, end)) {
                index += 1
            } else if byte == UInt8(ascii: "&") {
                let (name, after) = readName(from: index + 1, end)
                frames.append(Frame(name: name, extent: anchoredExtent(after: after, end, column: column,
                                                                      keyColumn: keyColumn, entryColumn: entryColumn)))
                index = after
            } else if byte == UInt8(ascii: "*") {
                let (name, after) = readName(from: index + 1, end)
                try expand(alias: name)
                index = after
            } else if byte == UInt8(ascii: "!") {
                index = readName(from: index + 1, end).end  // a tag annotates the next node
            } else if byte == UInt8(ascii: "[") || byte == UInt8(ascii: "{") {
                flowDepth += 1
                try checkDepth(blockIndents.count + entries + flowDepth)
                count(1)
                index += 1
            } else if (byte == UInt8(ascii: "]") || byte == UInt8(ascii: "}")) && flowDepth > 0 {
                flowDepth -= 1
                while let frame = frames.last, case let .flow(depth) = frame.extent, depth >= flowDepth {
                    anchors[frame.name] = frame.size
                    frames.removeLast()
                }
                index += 1
            } else if byte == UInt8(ascii: ",") && flowDepth > 0 {
                index += 1
            } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                count(1)
                guard let after = closingQuote(byte, from: index + 1, end) else {
                    openQuote = byte
                    return
                }
                if isKey(at: after, end) { keyColumn = column }
                index = after
            } else if (byte == UInt8(ascii: "|") || byte == UInt8(ascii: ">")) && flowDepth == 0 {
                // A block scalar: the following lines indented more than its parent node are its text.
                count(1)
                blockScalarIndent = keyColumn ?? entryColumn ?? (indent - 1)
                return
            } else {
                count(1)
                index = plainScalarEnd(from: index, end)
                if isKey(at: index, end) { keyColumn = column }
            }
        }
    }

    /// Adds the nodes an alias stands for to the expansion (and to every node being measured).
    mutating func expand(alias name: String) throws {
        let size = max(1, anchors[name] ?? 1)
        expansion += size
        if expansion > limits.maximumAliasExpansion {
            throw failure("YAML aliases expand to more than \(limits.maximumAliasExpansion) nodes (alias *\(name) stands for \(size)); "
                          + "a \"billion laughs\" file? Write repeated values out instead of nesting aliases")
        }
        count(size)
    }

    /// An anchor's or alias's name (up to whitespace or a flow indicator) and the index after it.
    func readName(from start: Int, _ end: Int) -> (name: String, end: Int) {
        var index = start
        while index < end && !isSpace(bytes[index]) && !Self.flowIndicators.contains(bytes[index]) { index += 1 }
        return (String(decoding: bytes[start..<index], as: UTF8.self), index)
    }

    /// How far the node an anchor at `column` names reaches: a flow collection, the block below the line, or one token.
    func anchoredExtent(after start: Int, _ end: Int, column: Int, keyColumn: Int?, entryColumn: Int?) -> Frame.Extent {
        var index = start
        while index < end {
            let byte = bytes[index]
            if isSpace(byte) {
                index += 1
            } else if byte == UInt8(ascii: "!") {
                index = readName(from: index + 1, end).end
            } else {
                break
            }
        }
        if index < end && (bytes[index] == UInt8(ascii: "[") || bytes[index] == UInt8(ascii: "{")) { return .flow(flowDepth) }
        guard index == end || bytes[index] == UInt8(ascii: "#") else { return .token }
        // The node is on the following lines: below a key (a sequence may then sit at the key's own indentation),
        // inside a `- ` entry, or, for an anchor alone on its line, everything indented as far as it.
        if let keyColumn { return .block(indent: keyColumn, allowsSequenceAtIndent: true) }
        if let entryColumn { return .block(indent: entryColumn, allowsSequenceAtIndent: false) }
        return .block(indent: column - 1, allowsSequenceAtIndent: false)
    }

    /// The index after the closing `quote` of a quoted scalar opened before `start`, or nil when the line ends first.
    func closingQuote(_ quote: UInt8, from start: Int, _ end: Int) -> Int? {
        var index = start
        while index < end {
            let byte = bytes[index]
            if quote == UInt8(ascii: "\"") && byte == UInt8(ascii: "\\") {
                index += 2
                continue
            }
            if byte == quote {
                // '' inside a single-quoted scalar is one quote.
                if quote == UInt8(ascii: "'") && index + 1 < end && bytes[index + 1] == quote {
                    index += 2
                    continue
                }
                return index + 1
            }
            index += 1
        }
        return nil
    }

    /// The end of a plain scalar: a `: ` separator, a ` #` comment, the line's end, or in flow context a flow
    /// indicator.
    func plainScalarEnd(from start: Int, _ end: Int) -> Int {
        var index = start + 1
        while index < end {
            let byte = bytes[index]
            if byte == UInt8(ascii: ":") && (isIndicator(byte, at: index, end)
                                             || (flowDepth > 0 && index + 1 < end && Self.flowIndicators.contains(bytes[index + 1]))) {
                return index
            }
            if byte == UInt8(ascii: "#") && isSpace(bytes[index - 1]) { return index }
            if flowDepth > 0 && Self.flowIndicators.contains(byte) { return index }
            index += 1
        }
        return end
    }

    /// Whether a `:` separator follows at `index` (after spaces): the scalar before it was a mapping key.
    func isKey(at start: Int, _ end: Int) -> Bool {
        var index = start
        while index < end && isSpace(bytes[index]) { index += 1 }
        return index < end && bytes[index] == UInt8(ascii: ":") && (flowDepth > 0 || isIndicator(bytes[index], at: index, end))
    }
}
