import Checksums

/// The stable id of a preference pair: the first 16 hex digits of the SHA-256 of its normalised prompt, chosen and
/// rejected (``NormalisedText``), separated by the unit separator U+001F. The same pair gets the same id in every
/// audit, whatever its line, white space or letter case; swapping chosen and rejected gives another id.
public enum PairID {
    /// The id of a pair given as flattened texts (see ``AuditPair``).
    public static func of(prompt: String, chosen: String, rejected: String) -> String {
        of(prompt: NormalisedText(prompt), chosen: NormalisedText(chosen), rejected: NormalisedText(rejected))
    }

    static func of(prompt: NormalisedText, chosen: NormalisedText, rejected: NormalisedText) -> String {
        var hasher = SHA256()
        hasher.update(prompt.bytes)
        hasher.update([0x1F])
        hasher.update(chosen.bytes)
        hasher.update([0x1F])
        hasher.update(rejected.bytes)
        return String(SHA256.hex(bytes: hasher.finalize()).prefix(16))
    }
}
