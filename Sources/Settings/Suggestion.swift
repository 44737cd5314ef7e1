/// "did you mean …?" for a misspelled name: the nearest known name by edit distance, when it is near enough to be a
/// typing slip rather than a different word.
public enum Suggestion {
    /// The known name nearest to `name`, if it is within max(2, a third of the name's length) edits.
    public static func nearest(to name: String, among known: some Sequence<String>) -> String? {
        let best = known.map { ($0, editDistance($0, name)) }.min { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }
        return best.flatMap { $0.1 <= max(2, name.count / 3) ? $0.0 : nil }
    }

    /// " did you mean 'x'?" or "" (for appending to a message).
    public static func phrase(for name: String, among known: some Sequence<String>) -> String {
        nearest(to: name, among: known).map { " did you mean '\($0)'?" } ?? ""
    }

    /// Levenshtein distance between two strings, by characters.
    public static func editDistance(_ a: String, _ b: String) -> Int {
        let b = Array(b)
        var row = Array(0...b.count)  // distances from a's prefix so far to each prefix of b
        for (i, x) in a.enumerated() {
            var next = [i + 1]
            for (j, y) in b.enumerated() { next.append(min(row[j + 1] + 1, next[j] + 1, row[j] + (x == y ? 0 : 1))) }
            row = next
        }
        return row[b.count]
    }
}
