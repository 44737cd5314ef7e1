/// A field that OpenAI accepts either as one string or as a list of strings (`prompt`, `stop`).
enum StringOrList: Codable, Equatable, Sendable {
    case one(String)
    case many([String])

    var values: [String] {
        switch self {
        case .one(let value): return [value]
        case .many(let values): return values
        }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(String.self) {
            self = .one(value)
        } else if let values = try? container.decode([String].self) {
            self = .many(values)
        } else {
            throw DecodingError.typeMismatch(
                StringOrList.self,
                .init(codingPath: decoder.codingPath, debugDescription: "expected a string or a list of strings"))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .one(let value): try container.encode(value)
        case .many(let values): try container.encode(values)
        }
    }
}
