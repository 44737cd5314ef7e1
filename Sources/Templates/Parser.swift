/// Builds the statement tree of a template from its tokens, with jinja2's grammar and operator precedence
/// (lowest first): `x if c else y`, `or`, `and`, `not`, comparisons and `in`, `+ -`, `~`, `* / // %`, `**`,
/// unary `-`, then postfix `.attr`, `[key]`, `(args)`, `| filter` and `is test`.
struct Parser {
    var tokens: [Token]
    var index = 0

    init(tokens: [Token]) { self.tokens = tokens }

    static func parse(_ source: String) throws -> [Node] {
        var parser = Parser(tokens: try Lexer.tokenize(source))
        let (nodes, end) = try parser.parseBody(until: [])
        if let end { throw TemplateError(.syntax, "unexpected '\(end.keyword)'", at: end.position) }
        return nodes
    }

    // MARK: - Statements

    /// Nodes up to a block tag whose keyword is in `terminators` (consumed with its keyword; the caller reads the
    /// rest of that tag), or to the end of the template (nil).
    mutating func parseBody(until terminators: Set<String>) throws -> ([Node], (keyword: String, position: Position)?) {
        var nodes: [Node] = []
        while true {
            let token = tokens[index]
            switch token.kind {
            case .end:
                return (nodes, nil)
            case let .text(text):
                index += 1
                nodes.append(.text(text))
            case .variableBegin:
                index += 1
                let expression = try parseTuple()
                try expect(.variableEnd, "'}}'")
                nodes.append(.output(expression, token.position))
            case .blockBegin:
                index += 1
                guard case let .name(keyword) = tokens[index].kind else {
                    throw TemplateError(.syntax, "expected a statement name after '{%'", at: tokens[index].position)
                }
                if terminators.contains(keyword) {
                    index += 1
                    return (nodes, (keyword, token.position))
                }
                index += 1
                nodes.append(try parseStatement(keyword, at: token.position))
            default:
                throw TemplateError(.syntax, "unexpected token", at: token.position)
            }
        }
    }

    mutating func parseBlock(until terminators: Set<String>, opener: String,
                                     at position: Position) throws -> ([Node], String) {
        let (body, end) = try parseBody(until: terminators)
        guard let end else {
            let expected = terminators.sorted().map { "'\($0)'" }.joined(separator: " or ")
            throw TemplateError(.syntax, "unexpected end of template: the '\(opener)' block is not closed "
                                + "(expected \(expected))", at: position)
        }
        return (body, end.keyword)
    }

    mutating func parseStatement(_ keyword: String, at position: Position) throws -> Node {
        switch keyword {
        case "if":
            var branches: [(condition: Expression, body: [Node])] = []
            var condition = try parseExpression()
            try expect(.blockEnd, "'%}'")
            while true {
                let (body, end) = try parseBlock(until: ["elif", "else", "endif"], opener: "if", at: position)
                branches.append((condition, body))
                switch end {
                case "elif":
                    condition = try parseExpression()
                    try expect(.blockEnd, "'%}'")
                case "else":
                    try expect(.blockEnd, "'%}'")
                    let (otherwise, _) = try parseBlock(until: ["endif"], opener: "if", at: position)
                    try expect(.blockEnd, "'%}'")
                    return .conditional(branches: branches, otherwise: otherwise, position)
                default:
                    try expect(.blockEnd, "'%}'")
                    return .conditional(branches: branches, otherwise: [], position)
                }
            }
        case "for":
            let parenthesized = skip(symbol: "(")
            var targets = [try expectName()]
            while skip(symbol: ",") { targets.append(try expectName()) }
            if parenthesized { try expect(symbol: ")") }
            try expect(keyword: "in")
            let iterable = try parseTuple(conditional: false)
            let filter = skip(keyword: "if") ? try parseExpression() : nil
            _ = skip(keyword: "recursive")
            try expect(.blockEnd, "'%}'")
            let (body, end) = try parseBlock(until: ["else", "endfor"], opener: "for", at: position)
            try expect(.blockEnd, "'%}'")
            var otherwise: [Node] = []
            if end == "else" {
                (otherwise, _) = try parseBlock(until: ["endfor"], opener: "for", at: position)
                try expect(.blockEnd, "'%}'")
            }
            return .loop(Loop(targets: targets, iterable: iterable, filter: filter, body: body, otherwise: otherwise,
                              position: position))
        case "set":
            let first = try expectName()
            var targets: [AssignTarget] = []
            if skip(symbol: ".") {
                targets.append(.attribute(object: first, name: try expectName()))
            } else {
                targets.append(.name(first))
                while skip(symbol: ",") { targets.append(.name(try expectName())) }
            }
            if skip(symbol: "=") {
                let value = try parseTuple()
                try expect(.blockEnd, "'%}'")
                return .assign(targets: targets, value: value, position)
            }
            guard targets.count == 1, case let .name(name) = targets[0] else {
                throw TemplateError(.syntax, "expected '=' after the set target", at: tokens[index].position)
            }
            var filters: [FilterCall] = []
            while skip(symbol: "|") { filters.append(try parseFilterCall()) }
            try expect(.blockEnd, "'%}'")
            let (body, _) = try parseBlock(until: ["endset"], opener: "set", at: position)
            try expect(.blockEnd, "'%}'")
            return .assignBlock(name: name, filters: filters, body: body, position)
        case "macro":
            let name = try expectName()
            let parameters = try parseParameters()
            try expect(.blockEnd, "'%}'")
            let (body, _) = try parseBlock(until: ["endmacro"], opener: "macro", at: position)
            _ = skip(keyword: name)
            try expect(.blockEnd, "'%}'")
            return .macro(Macro(name: name, parameters: parameters, body: body, position: position))
        case "call":
            let parameters = check(symbol: "(") ? try parseParameters() : []
            let call = try parseExpression()
            try expect(.blockEnd, "'%}'")
            let (body, _) = try parseBlock(until: ["endcall"], opener: "call", at: position)
            try expect(.blockEnd, "'%}'")
            return .callBlock(call: call, callerParameters: parameters, body: body, position)
        case "filter":
            var filters = [try parseFilterCall()]
            while skip(symbol: "|") { filters.append(try parseFilterCall()) }
            try expect(.blockEnd, "'%}'")
            let (body, _) = try parseBlock(until: ["endfilter"], opener: "filter", at: position)
            try expect(.blockEnd, "'%}'")
            return .filterBlock(filters: filters, body: body, position)
        case "generation":
            try expect(.blockEnd, "'%}'")
            let (body, _) = try parseBlock(until: ["endgeneration"], opener: "generation", at: position)
            try expect(.blockEnd, "'%}'")
            return .generation(body)
        case "break", "continue":
            try expect(.blockEnd, "'%}'")
            return keyword == "break" ? .breakLoop(position) : .continueLoop(position)
        case _ where keyword.hasPrefix("end") || keyword == "elif" || keyword == "else":
            throw TemplateError(.syntax, "unexpected '\(keyword)'", at: position)
        default:
            throw TemplateError(.syntax, "unknown statement '\(keyword)' (chat templates can use if, for, set, "
                                + "macro, call, filter, generation, break and continue)", at: position)
        }
    }

    /// `(a, b='x')` of a macro or call block.
    mutating func parseParameters() throws -> [Parameter] {
        try expect(symbol: "(")
        var parameters: [Parameter] = []
        while !skip(symbol: ")") {
            if !parameters.isEmpty { try expect(symbol: ",") }
            if skip(symbol: ")") { break }
            let name = try expectName()
            parameters.append(Parameter(name: name, defaultValue: skip(symbol: "=") ? try parseExpression() : nil))
        }
        return parameters
    }

    mutating func parseFilterCall() throws -> FilterCall {
        var name = try expectName()
        while skip(symbol: ".") { name += "." + (try expectName()) }
        return FilterCall(name: name, arguments: check(symbol: "(") ? try parseArguments() : Arguments())
    }
}

/// Token helpers shared by the statement and expression parsers.
extension Parser {
    func describe(_ token: Token) -> String {
        switch token.kind {
        case .variableEnd: return "'}}'"
        case .blockEnd: return "'%}'"
        case .end: return "end of template"
        case let .symbol(symbol): return "'\(symbol)'"
        case let .name(name): return "name '\(name)'"
        default: return "token"
        }
    }

    func check(symbol: String) -> Bool {
        if case .symbol(symbol) = tokens[index].kind { return true }
        return false
    }

    func check(keyword: String) -> Bool { isName(at: index, keyword) }

    func isName(at position: Int, _ name: String) -> Bool {
        guard position < tokens.count, case let .name(found) = tokens[position].kind else { return false }
        return found == name
    }

    mutating func skip(symbol: String) -> Bool {
        guard check(symbol: symbol) else { return false }
        index += 1
        return true
    }

    mutating func skip(keyword: String) -> Bool {
        guard check(keyword: keyword) else { return false }
        index += 1
        return true
    }

    mutating func skip(operators: [BinaryOperator]) -> BinaryOperator? {
        guard case let .symbol(symbol) = tokens[index].kind, let op = BinaryOperator(rawValue: symbol),
              operators.contains(op) else { return nil }
        index += 1
        return op
    }

    mutating func expect(symbol: String) throws {
        guard skip(symbol: symbol) else {
            throw TemplateError(.syntax, "expected '\(symbol)', found \(describe(tokens[index]))",
                                at: tokens[index].position)
        }
    }

    mutating func expect(keyword: String) throws {
        guard skip(keyword: keyword) else {
            throw TemplateError(.syntax, "expected '\(keyword)', found \(describe(tokens[index]))",
                                at: tokens[index].position)
        }
    }

    mutating func expect(_ kind: Token.Kind, _ description: String) throws {
        guard tokens[index].kind == kind else {
            throw TemplateError(.syntax, "expected \(description), found \(describe(tokens[index]))",
                                at: tokens[index].position)
        }
        index += 1
    }

    mutating func expectName() throws -> String {
        guard case let .name(name) = tokens[index].kind else {
            throw TemplateError(.syntax, "expected a name, found \(describe(tokens[index]))", at: tokens[index].position)
        }
        index += 1
        return name
    }
}
