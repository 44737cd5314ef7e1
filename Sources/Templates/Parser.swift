/// Builds the statement tree of a template from its tokens, with jinja2's grammar and operator precedence
/// (lowest first): `x if c else y`, `or`, `and`, `not`, comparisons and `in`, `+ -`, `~`, `* / // %`, `**`,
/// unary `-`, then postfix `.attr`, `[key]`, `(args)`, `| filter` and `is test`.
struct Parser {
    private var tokens: [Token]
    private var index = 0

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
    private mutating func parseBody(until terminators: Set<String>) throws -> ([Node], (keyword: String, position: Position)?) {
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

    private mutating func parseBlock(until terminators: Set<String>, opener: String,
                                     at position: Position) throws -> ([Node], String) {
        let (body, end) = try parseBody(until: terminators)
        guard let end else {
            let expected = terminators.sorted().map { "'\($0)'" }.joined(separator: " or ")
            throw TemplateError(.syntax, "unexpected end of template: the '\(opener)' block is not closed "
                                + "(expected \(expected))", at: position)
        }
        return (body, end.keyword)
    }

    private mutating func parseStatement(_ keyword: String, at position: Position) throws -> Node {
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
            var targets = [try expectName()]
            while skip(symbol: ",") { targets.append(try expectName()) }
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
    private mutating func parseParameters() throws -> [Parameter] {
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

    private mutating func parseFilterCall() throws -> FilterCall {
        var name = try expectName()
        while skip(symbol: ".") { name += "." + (try expectName()) }
        return FilterCall(name: name, arguments: check(symbol: "(") ? try parseArguments() : Arguments())
    }

    // MARK: - Expressions

    /// An expression or an unparenthesized tuple (`a, b`).
    private mutating func parseTuple(conditional: Bool = true) throws -> Expression {
        var items: [Expression] = []
        var sawComma = false
        repeat {
            if !items.isEmpty && isTupleEnd() { break }
            items.append(conditional ? try parseExpression() : try parseOr())
            if skip(symbol: ",") { sawComma = true } else { break }
        } while true
        return items.count == 1 && !sawComma ? items[0] : .tuple(items)
    }

    private func isTupleEnd() -> Bool {
        switch tokens[index].kind {
        case .variableEnd, .blockEnd, .end: return true
        case let .symbol(symbol): return symbol == ")"
        case let .name(name): return name == "if" || name == "recursive"
        default: return false
        }
    }

    mutating func parseExpression() throws -> Expression {
        var expression = try parseOr()
        while skip(keyword: "if") {
            let condition = try parseOr()
            let otherwise = skip(keyword: "else") ? try parseExpression() : nil
            expression = .conditional(condition: condition, then: expression, otherwise: otherwise)
        }
        return expression
    }

    private mutating func parseOr() throws -> Expression {
        var left = try parseAnd()
        while skip(keyword: "or") { left = .or(left, try parseAnd()) }
        return left
    }

    private mutating func parseAnd() throws -> Expression {
        var left = try parseNot()
        while skip(keyword: "and") { left = .and(left, try parseNot()) }
        return left
    }

    private mutating func parseNot() throws -> Expression {
        if check(keyword: "not") && !isName(at: index + 1, "in") {
            index += 1
            return .not(try parseNot())
        }
        return try parseCompare()
    }

    private mutating func parseCompare() throws -> Expression {
        var left = try parseMath1()
        var chain: Expression?
        while true {
            let op: BinaryOperator
            if case let .symbol(symbol) = tokens[index].kind,
               let comparison = BinaryOperator(rawValue: symbol),
               [.equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual].contains(comparison) {
                index += 1
                op = comparison
            } else if skip(keyword: "in") {
                op = .contains
            } else if check(keyword: "not") && isName(at: index + 1, "in") {
                index += 2
                op = .notContains
            } else {
                break
            }
            let right = try parseMath1()
            let comparison = Expression.binary(op, left, right)
            chain = chain.map { .and($0, comparison) } ?? comparison
            left = right
        }
        return chain ?? left
    }

    private mutating func parseMath1() throws -> Expression {
        var left = try parseConcat()
        while let op = skip(operators: [.add, .subtract]) { left = .binary(op, left, try parseConcat()) }
        return left
    }

    private mutating func parseConcat() throws -> Expression {
        var left = try parseMath2()
        while skip(symbol: "~") { left = .binary(.concatenate, left, try parseMath2()) }
        return left
    }

    private mutating func parseMath2() throws -> Expression {
        var left = try parsePower()
        while let op = skip(operators: [.multiply, .divide, .floorDivide, .modulo]) {
            left = .binary(op, left, try parsePower())
        }
        return left
    }

    private mutating func parsePower() throws -> Expression {
        var left = try parseUnary()
        while skip(symbol: "**") { left = .binary(.power, left, try parseUnary()) }
        return left
    }

    private mutating func parseUnary(withFilters: Bool = true) throws -> Expression {
        var expression: Expression
        if skip(symbol: "-") {
            expression = .negate(try parseUnary(withFilters: false))
        } else if skip(symbol: "+") {
            expression = .plus(try parseUnary(withFilters: false))
        } else {
            expression = try parsePostfix(try parsePrimary())
        }
        if withFilters { expression = try parseFiltersAndTests(expression) }
        return expression
    }

    private mutating func parsePrimary() throws -> Expression {
        let token = tokens[index]
        index += 1
        switch token.kind {
        case let .name(name):
            switch name {
            case "true", "True": return .boolean(true)
            case "false", "False": return .boolean(false)
            case "none", "None": return .none
            default: return .name(name)
            }
        case var .string(text):
            while case let .string(more) = tokens[index].kind {
                text += more
                index += 1
            }
            return .string(text)
        case let .integer(value): return .integer(value)
        case let .float(value): return .float(value)
        case .symbol("("):
            if skip(symbol: ")") { return .tuple([]) }
            let expression = try parseTuple()
            try expect(symbol: ")")
            return expression
        case .symbol("["):
            var items: [Expression] = []
            while !skip(symbol: "]") {
                if !items.isEmpty { try expect(symbol: ",") }
                if skip(symbol: "]") { break }
                items.append(try parseExpression())
            }
            return .list(items)
        case .symbol("{"):
            var pairs: [(key: Expression, value: Expression)] = []
            while !skip(symbol: "}") {
                if !pairs.isEmpty { try expect(symbol: ",") }
                if skip(symbol: "}") { break }
                let key = try parseExpression()
                try expect(symbol: ":")
                pairs.append((key, try parseExpression()))
            }
            return .dictionary(pairs)
        default:
            throw TemplateError(.syntax, "unexpected \(describe(token))", at: token.position)
        }
    }

    private mutating func parsePostfix(_ base: Expression) throws -> Expression {
        var expression = base
        while true {
            if skip(symbol: ".") {
                switch tokens[index].kind {
                case let .name(name): expression = .attribute(expression, name)
                case let .integer(value): expression = .index(expression, .integer(value))
                default: throw TemplateError(.syntax, "expected an attribute name after '.'", at: tokens[index].position)
                }
                index += 1
            } else if skip(symbol: "[") {
                expression = try parseSubscript(expression)
            } else if check(symbol: "(") {
                expression = .call(expression, try parseArguments())
            } else {
                return expression
            }
        }
    }

    private mutating func parseSubscript(_ base: Expression) throws -> Expression {
        var parts: [Expression?] = []
        var current: Expression? = check(symbol: ":") ? nil : try parseExpression()
        var isSlice = false
        while skip(symbol: ":") {
            isSlice = true
            parts.append(current)
            current = check(symbol: ":") || check(symbol: "]") ? nil : try parseExpression()
        }
        parts.append(current)
        try expect(symbol: "]")
        guard isSlice else {
            guard let key = current else { throw TemplateError(.syntax, "empty subscript", at: tokens[index].position) }
            return .index(base, key)
        }
        return .slice(base, start: parts[0], stop: parts.count > 1 ? parts[1] : nil,
                      step: parts.count > 2 ? parts[2] : nil)
    }

    private mutating func parseFiltersAndTests(_ base: Expression) throws -> Expression {
        var expression = base
        while true {
            if skip(symbol: "|") {
                let call = try parseFilterCall()
                expression = .filter(expression, name: call.name, call.arguments)
            } else if skip(keyword: "is") {
                let negated = skip(keyword: "not")
                var name = try expectName()
                while skip(symbol: ".") { name += "." + (try expectName()) }
                var arguments = Arguments()
                if check(symbol: "(") {
                    arguments = try parseArguments()
                } else if startsTestArgument() {
                    arguments.positional = [try parsePostfix(try parsePrimary())]
                }
                expression = .test(expression, name: name, arguments, negated: negated)
            } else if check(symbol: "(") {
                expression = .call(expression, try parseArguments())
            } else {
                return expression
            }
        }
    }

    /// jinja2 reads `x is divisibleby 3` (one argument without parentheses) when a value follows the test name.
    private func startsTestArgument() -> Bool {
        switch tokens[index].kind {
        case let .name(name): return !["else", "or", "and"].contains(name)
        case .string, .integer, .float: return true
        case let .symbol(symbol): return symbol == "[" || symbol == "{"
        default: return false
        }
    }

    private mutating func parseArguments() throws -> Arguments {
        try expect(symbol: "(")
        var arguments = Arguments()
        var first = true
        while !skip(symbol: ")") {
            if !first { try expect(symbol: ",") }
            first = false
            if skip(symbol: ")") { break }
            if skip(symbol: "*") {
                arguments.spread = try parseExpression()
            } else if skip(symbol: "**") {
                arguments.keywordSpread = try parseExpression()
            } else if case let .name(name) = tokens[index].kind, case .symbol("=") = tokens[index + 1].kind {
                index += 2
                arguments.keywords.append((name, try parseExpression()))
            } else {
                arguments.positional.append(try parseExpression())
            }
        }
        return arguments
    }

    // MARK: - Token helpers

    private func describe(_ token: Token) -> String {
        switch token.kind {
        case .variableEnd: return "'}}'"
        case .blockEnd: return "'%}'"
        case .end: return "end of template"
        case let .symbol(symbol): return "'\(symbol)'"
        case let .name(name): return "name '\(name)'"
        default: return "token"
        }
    }

    private func check(symbol: String) -> Bool {
        if case .symbol(symbol) = tokens[index].kind { return true }
        return false
    }

    private func check(keyword: String) -> Bool { isName(at: index, keyword) }

    private func isName(at position: Int, _ name: String) -> Bool {
        guard position < tokens.count, case let .name(found) = tokens[position].kind else { return false }
        return found == name
    }

    private mutating func skip(symbol: String) -> Bool {
        guard check(symbol: symbol) else { return false }
        index += 1
        return true
    }

    private mutating func skip(keyword: String) -> Bool {
        guard check(keyword: keyword) else { return false }
        index += 1
        return true
    }

    private mutating func skip(operators: [BinaryOperator]) -> BinaryOperator? {
        guard case let .symbol(symbol) = tokens[index].kind, let op = BinaryOperator(rawValue: symbol),
              operators.contains(op) else { return nil }
        index += 1
        return op
    }

    private mutating func expect(symbol: String) throws {
        guard skip(symbol: symbol) else {
            throw TemplateError(.syntax, "expected '\(symbol)', found \(describe(tokens[index]))",
                                at: tokens[index].position)
        }
    }

    private mutating func expect(keyword: String) throws {
        guard skip(keyword: keyword) else {
            throw TemplateError(.syntax, "expected '\(keyword)', found \(describe(tokens[index]))",
                                at: tokens[index].position)
        }
    }

    private mutating func expect(_ kind: Token.Kind, _ description: String) throws {
        guard tokens[index].kind == kind else {
            throw TemplateError(.syntax, "expected \(description), found \(describe(tokens[index]))",
                                at: tokens[index].position)
        }
        index += 1
    }

    private mutating func expectName() throws -> String {
        guard case let .name(name) = tokens[index].kind else {
            throw TemplateError(.syntax, "expected a name, found \(describe(tokens[index]))", at: tokens[index].position)
        }
        index += 1
        return name
    }
}
