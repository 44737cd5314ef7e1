import Foundation

/// A Jinja template as Hugging Face chat templates use it, rendered the way transformers'
/// `apply_chat_template` renders it: jinja2's `ImmutableSandboxedEnvironment` with `trim_blocks` and
/// `lstrip_blocks`, the loop controls `break`/`continue`, the globals `raise_exception`, `strftime_now`,
/// `namespace`, `dict` and `range`, a `tojson` filter that writes `json.dumps(…, ensure_ascii=False)`, and
/// `{% generation %}` blocks that mark assistant text.
///
/// ```swift
/// let template = try Template(source)
/// let text = try template.render(["messages": .list(…), "add_generation_prompt": .boolean(true)])
/// ```
public struct Template: Sendable, Equatable {
    /// The Jinja source.
    public let source: String
    let nodes: [Node]

    /// Parses a template.
    /// - Throws: `TemplateError` of kind `.syntax` naming the line and column of the problem.
    public init(_ source: String) throws {
        self.source = source
        nodes = try Parser.parse(source)
    }

    public static func == (lhs: Template, rhs: Template) -> Bool { lhs.source == rhs.source }

    /// Renders the template with the given variables.
    /// - Throws: `TemplateError` (`.raised` for `raise_exception`, with the template's message).
    public func render(_ context: [String: TemplateValue], environment: TemplateEnvironment = TemplateEnvironment())
        throws -> String {
        try renderMarkingGenerations(context, environment: environment).text
    }

    /// Renders the template and returns the UTF-8 byte ranges of the text written inside `{% generation %}` blocks
    /// (transformers' `return_assistant_tokens_mask` spans).
    public func renderMarkingGenerations(_ context: [String: TemplateValue],
                                         environment: TemplateEnvironment = TemplateEnvironment())
        throws -> (text: String, generationRanges: [Range<Int>]) {
        let renderer = Renderer(context: context, environment: environment)
        _ = try renderer.execute(nodes)
        return (renderer.output, renderer.generationRanges)
    }
}

/// What a template sees of the world beyond its variables.
public struct TemplateEnvironment: Sendable {
    /// The time `strftime_now` formats; nil means the current time.
    public var now: Date?
    /// The time zone `strftime_now` uses (transformers uses the machine's local time).
    public var timeZone: TimeZone

    public init(now: Date? = nil, timeZone: TimeZone = .current) {
        self.now = now
        self.timeZone = timeZone
    }
}

extension Renderer {
    static func makeGlobals(_ environment: TemplateEnvironment) -> [String: TemplateValue] {
        func function(_ name: String, _ body: @escaping ([TemplateValue], [(String, TemplateValue)]) throws -> TemplateValue)
            -> TemplateValue {
            .function(TemplateValue.Function(name: name, call: body))
        }
        return [
            "raise_exception": function("raise_exception") { arguments, _ in
                throw TemplateError(.raised, arguments.first?.text ?? "")
            },
            "strftime_now": function("strftime_now") { arguments, _ in
                let format = try Renderer.argument(arguments, 0, "strftime_now").text
                return .string(Renderer.strftime(format, environment.now ?? Date(), environment.timeZone))
            },
            "range": function("range") { arguments, _ in
                let bounds = try arguments.map { value -> Int in
                    guard let integer = value.integerValue else {
                        throw TemplateError(.type, "'\(value.typeName)' object cannot be interpreted as an integer")
                    }
                    return integer
                }
                let (start, stop, step) = bounds.count == 1 ? (0, bounds[0], 1)
                    : (bounds.first ?? 0, bounds.count > 1 ? bounds[1] : 0, bounds.count > 2 ? bounds[2] : 1)
                guard step != 0 else { throw TemplateError(.type, "range() arg 3 must not be zero") }
                // jinja2's sandbox limit (MAX_RANGE).
                guard (Double(stop) - Double(start)) / Double(step) <= 100_000 else {
                    throw TemplateError(.security, "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).")
                }
                return .list(Swift.stride(from: start, to: stop, by: step).map { .integer($0) })
            },
            "dict": function("dict") { arguments, keywords in
                var dictionary = TemplateDictionary()
                if let first = arguments.first {
                    switch first {
                    case let .dictionary(source): dictionary = source
                    case let .list(pairs), let .tuple(pairs):
                        for pair in pairs {
                            guard case let .list(parts) = pair, parts.count == 2 else {
                                if case let .tuple(parts) = pair, parts.count == 2 { dictionary[parts[0].text] = parts[1]; continue }
                                throw TemplateError(.type, "dict() needs key/value pairs")
                            }
                            dictionary[parts[0].text] = parts[1]
                        }
                    default: throw TemplateError(.type, "'\(first.typeName)' object is not iterable")
                    }
                }
                for (key, value) in keywords { dictionary[key] = value }
                return .dictionary(dictionary)
            },
            "namespace": function("namespace") { arguments, keywords in
                var attributes = TemplateDictionary()
                if case let .dictionary(source)? = arguments.first { attributes = source }
                for (key, value) in keywords {
                    guard !key.hasPrefix("_") else {
                        throw TemplateError(.security, "Chat templates cannot store underscore-prefixed attributes on "
                                            + "a namespace, but got '\(key)'. Please rename the attribute.")
                    }
                    attributes[key] = value
                }
                return .namespace(TemplateValue.Namespace(attributes))
            },
        ]
    }

    /// Python's `datetime.strftime` for the directives templates use (English names, as in the C locale).
    static func strftime(_ format: String, _ date: Date, _ timeZone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
        let months = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
                      "October", "November", "December"]
        let days = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
        func two(_ value: Int?) -> String { String(format: "%02d", value ?? 0) }
        let month = months[(parts.month ?? 1) - 1], day = days[(parts.weekday ?? 1) - 1]
        return Renderer.expandingPercentDirectives(format) { directive in
            switch directive {
            case "d": return two(parts.day)
            case "m": return two(parts.month)
            case "Y": return String(parts.year ?? 0)
            case "y": return two((parts.year ?? 0) % 100)
            case "b", "h": return String(month.prefix(3))
            case "B": return month
            case "a": return String(day.prefix(3))
            case "A": return day
            case "H": return two(parts.hour)
            case "I": return two(((parts.hour ?? 0) + 11) % 12 + 1)
            case "p": return (parts.hour ?? 0) < 12 ? "AM" : "PM"
            case "M": return two(parts.minute)
            case "S": return two(parts.second)
            case "j": return String(format: "%03d", calendar.ordinality(of: .day, in: .year, for: date) ?? 0)
            case "%": return "%"
            default: return "%" + String(directive)
            }
        }
    }
}
