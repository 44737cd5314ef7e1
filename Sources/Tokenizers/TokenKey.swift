/// A dictionary key that compares strings by their UTF-8 bytes.
///
/// Swift's `String ==` treats canonically equivalent strings as equal ("é" == "e\u{301}"), but a
/// tokenizer vocabulary must not: HF tokenizers look tokens up byte for byte, so vocabularies,
/// merge tables and caches are keyed by `TokenKey`.
struct TokenKey: Hashable {
    let string: String

    init(_ string: String) {
        self.string = string
    }

    static func == (lhs: TokenKey, rhs: TokenKey) -> Bool {
        lhs.string.utf8.elementsEqual(rhs.string.utf8)
    }

    func hash(into hasher: inout Hasher) {
        var copy = string
        copy.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}

extension String {
    /// Byte-exact equality (no Unicode canonical equivalence).
    func bytesEqual(_ other: String) -> Bool {
        utf8.elementsEqual(other.utf8)
    }

    /// Byte-exact prefix test.
    func bytesHavePrefix(_ prefix: String) -> Bool {
        utf8.starts(with: prefix.utf8)
    }

    /// Byte-exact suffix test.
    func bytesHaveSuffix(_ suffix: String) -> Bool {
        let own = Array(utf8)
        let tail = Array(suffix.utf8)
        return own.count >= tail.count && own[(own.count - tail.count)...].elementsEqual(tail)
    }

    /// Replaces every non-overlapping occurrence of `pattern`, left to right, comparing UTF-8 bytes.
    func bytesReplacing(_ pattern: String, with replacement: String) -> String {
        let haystack = Array(utf8)
        let needle = Array(pattern.utf8)
        guard !needle.isEmpty, haystack.count >= needle.count else { return self }
        var out: [UInt8] = []
        out.reserveCapacity(haystack.count)
        var index = 0
        var changed = false
        let first = needle[0]
        while index < haystack.count {
            if haystack[index] == first, index + needle.count <= haystack.count,
                haystack[index..<(index + needle.count)].elementsEqual(needle)
            {
                out.append(contentsOf: replacement.utf8)
                index += needle.count
                changed = true
            } else {
                out.append(haystack[index])
                index += 1
            }
        }
        return changed ? String(decoding: out, as: UTF8.self) : self
    }
}
