import Foundation

/// TRL's `datasets:` recipe key (`DatasetMixtureConfig`): several local datasets read as one training set.
///
/// ```yaml
/// datasets:
///   - path: json                       # datasets' json builder: data_files names the files
///     data_files: {train: hh/train.jsonl, test: hh/test.jsonl}
///     split: train
///     fraction: 0.7                    # optional, on every entry or none: shares of the mixture
///   - path: extra/                     # a local folder (its files assigned to splits by name) or file
/// ```
///
/// With fractions, TRL's rule: the shares are normalised, the mixture size is the largest that oversamples no
/// dataset, and each keeps its first round(share × size) rows.
public struct DatasetMixture: Sendable {
    /// One `datasets:` entry.
    public struct Entry: Sendable, Equatable {
        /// Files read for the entry's split.
        public var files: [URL]
        public var split: String
        public var fraction: Double?
    }

    public let entries: [Entry]

    /// Reads the `datasets:` value of a recipe (a list of mappings, as YAML gives it).
    /// - Parameter relativeTo: folder that relative paths are read from (the current folder, as TRL).
    /// - Throws: ``DatasetError`` naming `datasets[i].KEY` for what cannot be read here: Hub names, configuration
    ///   names, `columns`, fractions on some entries only.
    public init(_ value: Any, relativeTo base: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)) throws {
        guard let list = value as? [Any], !list.isEmpty else { throw Self.error("datasets", "must be a non-empty list of {path, data_files, split, fraction}") }
        var entries: [Entry] = []
        for (index, item) in list.enumerated() {
            let key = "datasets[\(index)]"
            guard let mapping = item as? [String: Any] else { throw Self.error(key, "must be a mapping such as {path: json, data_files: train.jsonl}") }
            let known: Set = ["path", "name", "data_dir", "data_files", "split", "columns", "fraction"]
            if let unknown = mapping.keys.sorted().first(where: { !known.contains($0) }) {
                throw Self.error("\(key).\(unknown)", "unknown key; known keys: \(known.sorted().joined(separator: ", "))")
            }
            guard let path = mapping["path"] as? String, !path.isEmpty else { throw Self.error("\(key).path", "is required: json (with data_files), or a local file or folder") }
            if let name = mapping["name"], !(name is NSNull) { throw Self.error("\(key).name", "configuration names belong to Hub datasets; give local files") }
            if let columns = mapping["columns"], !(columns is NSNull) { throw Self.error("\(key).columns", "column selection is not supported; give files with the TRL fields only") }
            let split = mapping["split"] as? String ?? "train"
            var fraction: Double?
            if let value = mapping["fraction"], !(value is NSNull) {
                guard let number = (value as? Double) ?? (value as? Int).map(Double.init), number.isFinite, number >= 0 else {
                    throw Self.error("\(key).fraction", "must be a number ≥ 0")
                }
                fraction = number
            }
            let resolve = { (text: String) in text.hasPrefix("/") ? URL(fileURLWithPath: text) : base.appendingPathComponent(text) }
            var files: [URL]
            if path == "json" {
                let dataDir = (mapping["data_dir"] as? String).map(resolve)
                switch mapping["data_files"] {
                case let file as String: files = [resolve(file)]
                case let list as [Any]: files = try list.map { guard let file = $0 as? String else { throw Self.error("\(key).data_files", "must list file paths") }; return resolve(file) }
                case let bySplit as [String: Any]:
                    guard let chosen = bySplit[split] else {
                        throw Self.error("\(key).data_files", "has no files for split \"\(split)\" (it has \(bySplit.keys.sorted().joined(separator: ", ")))")
                    }
                    files = try ((chosen as? [Any]) ?? [chosen]).map { guard let file = $0 as? String else { throw Self.error("\(key).data_files", "must list file paths") }; return resolve(file) }
                case nil, is NSNull:
                    guard let dataDir else { throw Self.error("\(key).data_files", "path: json needs data_files (or data_dir)") }
                    files = try DatasetSource.files(in: dataDir, split: split)
                default: throw Self.error("\(key).data_files", "must be a path, a list of paths or a mapping of split to paths")
                }
                // Files not keyed by split are datasets' train split (an explicit null means data_dir's files).
                let unkeyedFiles = mapping["data_files"].map { !($0 is [String: Any]) && !($0 is NSNull) } ?? false
                if unkeyedFiles, split != "train" {
                    throw Self.error("\(key).split", "data_files without split names are the train split; split \"\(split)\" does not exist")
                }
            } else {
                let url = resolve(path)
                var isFolder: ObjCBool = false
                guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) else {
                    throw Self.error("\(key).path", "\(path) is not a local file or folder (Hub datasets are not downloaded; save it with datasets' to_json first)")
                }
                files = isFolder.boolValue ? try DatasetSource.files(in: url, split: split) : [url]
            }
            entries.append(Entry(files: files, split: split, fraction: fraction))
        }
        let withFraction = entries.filter { $0.fraction != nil }.count
        guard withFraction == 0 || withFraction == entries.count else {
            throw Self.error("datasets", "fraction must be set on every entry or on none (\(withFraction) of \(entries.count) have one)")
        }
        if withFraction > 0, entries.allSatisfy({ $0.fraction == 0 }) { throw Self.error("datasets", "the fractions sum to 0") }
        self.entries = entries
    }

    /// Reads every entry and combines them (TRL's `get_dataset`).
    public func load(options: DatasetOptions = DatasetOptions(), source: URL) throws -> Dataset {
        var parts = try entries.map { entry in
            try DatasetSource.concatenating(try entry.files.map { try Dataset.load($0, options: options) }, source: entry.files[0])
        }
        if entries.first?.fraction != nil {
            let counts = Self.fractionCounts(sizes: parts.map(\.examples.count), fractions: entries.map { $0.fraction ?? 0 })
            parts = zip(parts, counts).map { part, count in part.prefix(count) }
        }
        return try DatasetSource.concatenating(parts, source: source)
    }

    /// How many leading rows each dataset keeps: shares normalised to one, mixture size `min(size / share)` over
    /// datasets with a positive share, `round(share × size)` rows each (Python's round: halves to even).
    public static func fractionCounts(sizes: [Int], fractions: [Double]) -> [Int] {
        let sum = fractions.reduce(0, +)
        let weights = fractions.map { $0 / sum }
        let total = zip(sizes, weights).filter { $0.1 > 0 }.map { Double($0.0) / $0.1 }.min() ?? 0
        return zip(sizes, weights).map { size, weight in min(size, Int((weight * total).rounded(.toNearestOrEven))) }
    }

    static func error(_ key: String, _ reason: String) -> DatasetError {
        DatasetError(file: "recipe", line: 0, kind: .invalidField, reason: "\(key): \(reason)")
    }
}

extension Dataset {
    /// The first `count` examples (and the quirks among them).
    func prefix(_ count: Int) -> Dataset {
        Dataset(url: url, type: type, format: format, examples: Array(examples.prefix(count)), skipped: skipped,
                quirks: quirks, blankLines: blankLines)
    }
}
