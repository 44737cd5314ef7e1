extension Array {
    /// Shuffles in place with Fisher–Yates, drawing index `i` from `generator.next() % (i + 1)` for i = count−1 … 1:
    /// the order depends only on the generator's outputs, never on the standard library's `shuffle(using:)`
    /// algorithm. (Also kept as an explicit loop because Swift 6.3's release optimizer crashed on
    /// `[Example].shuffled(using:)`.)
    public mutating func seededShuffle<Generator: RandomNumberGenerator>(using generator: inout Generator) {
        for i in stride(from: count - 1, to: 0, by: -1) {
            swapAt(i, Int(generator.next() % UInt64(i + 1)))
        }
    }
}
