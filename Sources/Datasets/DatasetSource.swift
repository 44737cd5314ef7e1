import Foundation

/// Training data named as TRL's scripts name it, read from local files the way `datasets.load_dataset` reads them:
/// a `.jsonl`/`.jsonl.gz` file, a folder whose files are assigned to splits by name (`train.jsonl`,
/// `data/train-00000-of-00001.jsonl`, `hh_test.jsonl`: the split keywords of `datasets`), or a mixture of several
/// (TRL's `datasets:` list, with `data_files`, `split` and `fraction`).
///
/// ```swift
/// let train = try DatasetSource.load(URL(fileURLWithPath: "hh/"), split: "train")  // hh/train.jsonl (or all files)
/// ```
public enum DatasetSource {
    /// `datasets`' split keywords (`SPLIT_KEYWORDS`): a file or folder named with one belongs to that split.
    public static let splitKeywords: [String: [String]] = [
        "train": ["train", "training"], "validation": ["validation", "valid", "dev", "val"], "test": ["test", "testing", "eval", "evaluation"],
    ]
    /// File names Charter reads (JSON Lines, optionally gzipped; `.json` holding JSON Lines, as `datasets`' json builder).
    static let readableSuffixes = [".jsonl", ".jsonl.gz", ".json", ".json.gz"]

    /// Reads `url` (a file, or a folder's files of `split`), concatenating several files in sorted order.
    /// - Throws: ``DatasetError`` naming the folder when it has no file for `split`, holds only files Charter cannot
    ///   read (Parquet, CSV), or holds files of different dataset types; the files' own errors otherwise.
    public static func load(_ url: URL, split: String = "train", options: DatasetOptions = DatasetOptions()) throws -> Dataset {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder), isFolder.boolValue else {
            return try Dataset.load(url, options: options)
        }
        return try concatenating(try files(in: url, split: split).map { try Dataset.load($0, options: options) }, source: url)
    }

    /// The files of `split` in `folder`, as `load_dataset(folder)` assigns them: by the split keywords in file or folder
    /// names (a word of the name: `train.jsonl`, `hh-train.jsonl`, `train/part-0.jsonl`, `data/train-00000-of-00002.jsonl`);
    /// when no name has a keyword, every file is the train split.
    public static func files(in folder: URL, split: String) throws -> [URL] {
        let name = folder.lastPathComponent
        guard let enumerator = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey]) else {
            throw DatasetError(file: name, line: 0, kind: .io, reason: "cannot list the folder")
        }
        var readable: [(url: URL, relative: String)] = [], unreadable: [String] = []
        let prefix = folder.standardizedFileURL.path + "/"
        for case let file as URL in enumerator where (try? file.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
            let relative = String(file.standardizedFileURL.path.dropFirst(prefix.count))
            guard !relative.split(separator: "/").contains(where: { $0.hasPrefix(".") }) else { continue }  // .cache, .git
            if readableSuffixes.contains(where: { relative.lowercased().hasSuffix($0) }) {
                readable.append((file, relative))
            } else if [".parquet", ".csv", ".tsv", ".arrow", ".txt"].contains(where: { relative.lowercased().hasSuffix($0) }) {
                unreadable.append(relative)
            }
        }
        readable.sort { $0.relative < $1.relative }
        guard !readable.isEmpty else {
            let found = unreadable.isEmpty ? "no data files" : "only \(unreadable.sorted().prefix(3).joined(separator: ", "))\(unreadable.count > 3 ? ", …" : "")"
            throw DatasetError(file: name, line: 0, kind: .io,
                               reason: "a dataset folder needs .jsonl, .jsonl.gz or .json files (JSON Lines); it has \(found). Convert Parquet or CSV with `datasets`: load_dataset(...).to_json(\"train.jsonl\")")
        }
        let assigned = readable.map { ($0.url, splits(of: $0.relative)) }
        guard assigned.contains(where: { !$0.1.isEmpty }) else {
            guard split == "train" else {
                throw DatasetError(file: name, line: 0, kind: .missingField,
                                   reason: "no file is named for split \"\(split)\" (every file belongs to the train split when none is named train*, test*, validation*, …)")
            }
            return readable.map(\.url)
        }
        let chosen = assigned.filter { $0.1.contains(split) }.map(\.0)
        guard !chosen.isEmpty else {
            let present = Set(assigned.flatMap(\.1)).sorted()
            throw DatasetError(file: name, line: 0, kind: .missingField,
                               reason: "no file for split \"\(split)\"; its files are named for \(present.joined(separator: ", ")) (e.g. \(split).jsonl)")
        }
        return chosen
    }

    /// The splits a relative path's names assign it to: a keyword as a whole word of a folder or file name (words are
    /// separated by `-._ ` and digits, as `datasets`' patterns), or `SPLIT-00000-of-00001` for any split name.
    static func splits(of relative: String) -> Set<String> {
        let parts = relative.lowercased().split(separator: "/")
        var found = Set<String>()
        for part in parts {
            let words = part.split { "-._ ".contains($0) || $0.isNumber }.map(String.init)
            for (split, keywords) in splitKeywords where words.contains(where: keywords.contains) { found.insert(split) }
            if let range = part.range(of: #"^[a-z0-9_]+(?=-\d{5}-of-\d{5})"#, options: .regularExpression) { found.insert(String(part[range])) }
        }
        return found
    }

    /// Several datasets read as one, in order.
    /// - Throws: ``DatasetError`` (`.mismatch`) when they differ in type or format.
    public static func concatenating(_ parts: [Dataset], source: URL) throws -> Dataset {
        guard let first = parts.first else {
            throw DatasetError(file: source.lastPathComponent, line: 0, kind: .noExamples, reason: "no data files")
        }
        guard parts.count > 1 else { return first }
        for part in parts.dropFirst() where part.type != first.type || part.format != first.format {
            throw DatasetError(file: source.lastPathComponent, line: 0, kind: .mismatch,
                               reason: "\(first.url.lastPathComponent) holds \(first.format.rawValue) \(first.type.rawValue) data but \(part.url.lastPathComponent) holds \(part.format.rawValue) \(part.type.rawValue) data; one dataset must hold one kind")
        }
        var skipped = SkipReport()
        for part in parts {
            skipped.count += part.skipped.count
            skipped.firstReasons += part.skipped.firstReasons.prefix(max(0, DatasetOptions().reportedSkipReasons - skipped.firstReasons.count))
        }
        return Dataset(url: source, type: first.type, format: first.format, examples: parts.flatMap(\.examples), skipped: skipped,
                       quirks: parts.flatMap(\.quirks), blankLines: parts.reduce(0) { $0 + $1.blankLines })
    }
}
