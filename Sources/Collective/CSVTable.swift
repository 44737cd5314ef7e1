import Foundation

/// A CSV file as RFC 4180 writes it (quoted fields may hold commas, doubled quotes and newlines), each record with
/// the 1-based line it starts on, so that errors can name it.
struct CSVTable {
    var file: String
    var header: [String]
    var records: [(line: Int, fields: [String])]

    /// - Throws: ``CollectiveError/missing(file:_:)`` for an unreadable or empty file, ``CollectiveError/badLine(file:line:_:)``
    ///   for an unterminated quote or a record whose field count differs from the header's.
    init(contentsOf url: URL) throws {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw CollectiveError.missing(file: url.path, "cannot read the file as UTF-8 (\(error.localizedDescription))")
        }
        try self.init(text: text, file: url.path)
    }

    init(text: String, file: String) throws {
        self.file = file
        var records: [(line: Int, fields: [String])] = []
        var fields: [String] = []
        var field = ""
        var quoted = false, fieldStarted = false
        var line = 1, recordLine = 1
        var scalars = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = scalars.next()
        if pending == "\u{FEFF}" { pending = scalars.next() }
        func endRecord() {
            fields.append(field)
            if !(fields.count == 1 && fields[0].isEmpty && !fieldStarted) { records.append((recordLine, fields)) }
            fields = []
            field = ""
            fieldStarted = false
        }
        while let scalar = pending {
            pending = scalars.next()
            if quoted {
                if scalar == "\"" {
                    if pending == "\"" { field.unicodeScalars.append("\""); pending = scalars.next() } else { quoted = false }
                } else {
                    if scalar == "\n" { line += 1 }
                    field.unicodeScalars.append(scalar)
                }
                continue
            }
            switch scalar {
            case "\"" where field.isEmpty:
                quoted = true
                fieldStarted = true
            case ",":
                fields.append(field)
                field = ""
                fieldStarted = true
            case "\r" where pending == "\n":
                continue
            case "\n", "\r":
                endRecord()
                line += 1
                recordLine = line
            default:
                field.unicodeScalars.append(scalar)
                fieldStarted = true
            }
        }
        if quoted { throw CollectiveError.badLine(file: file, line: recordLine, "a quoted field is never closed (a \" is missing)") }
        if !field.isEmpty || !fields.isEmpty || fieldStarted { endRecord() }
        guard let first = records.first else { throw CollectiveError.missing(file: file, "the file is empty; expected a header line") }
        header = first.fields.map { $0.trimmingCharacters(in: .whitespaces) }
        self.records = Array(records.dropFirst())
        for record in self.records where record.fields.count != header.count {
            throw CollectiveError.badLine(file: file, line: record.line,
                                          "\(record.fields.count) fields, but the header has \(header.count)")
        }
    }

    /// The index of each named column.
    /// - Throws: ``CollectiveError/missing(file:_:)`` naming the absent columns.
    func columns(_ names: [String]) throws -> [Int] {
        let missing = names.filter { !header.contains($0) }
        guard missing.isEmpty else {
            throw CollectiveError.missing(file: file, "no column \(missing.joined(separator: ", ")) in the header (\(header.joined(separator: ",")))")
        }
        return names.compactMap { header.firstIndex(of: $0) }
    }

    /// One field quoted as RFC 4180 needs it.
    static func quote(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
