/// Expressions, with jinja2's precedence (see `Parser`).
extension Parser {
    /// An expression or an unparenthesized tuple (`a, b`).
    mutating func parseTuple(conditional: Bool = true) throws -> Expression {
        var items: [Expression] = []
        var sawComma = false
        repeat {
            if !items.isEmpty && isTupleEnd() { break }
            items.append(conditional ? try parseExpression() : try parseOr())
            if skip(symbol: ",") { sawComma = true } else { break }
        } while true
        return items.count == 1 && !sawComma ? items[0] : .tuple(items)
    }

    func isTupleEnd() -> Bool {
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

    mutating func parseOr() throws -> Expression {
        var left = try parseAnd()
        while skip(keyword: "or") { left = .or(left, try parseAnd()) }
        return left
    }

    mutating func parseAnd() throws -> Expression {
        var left = try parseNot()
        while skip(keyword: "and") { left = .and(left, try parseNot()) }
        return left
    }

    mutating func parseNot() throws -> Expression {
        if check(keyword: "not") && !isName(at: index + 1, "in") {
            index += 1
            return .not(try parseNot())
        }
        return try parseCompare()
    }

    mutating func parseCompare() throws -> Expression {
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

    mutating func parseMath1() throws -> Expression {
        var left = try parseConcat()
        while let op = skip(operators: [.add, .subtract]) { left = .binary(op, left, try parseConcat()) }
        return left
    }

    mutating func parseConcat() throws -> Expression {
        var left = try parseMath2()
        while skip(symbol: "~") { left = .binary(.concatenate, left, try parseMath2()) }
        return left
    }

    mutating func parseMath2() throws -> Expression {
        var left = try parsePower()
        while let op = skip(operators: [.multiply, .divide, .floorDivide, .modulo]) {
            left = .binary(op, left, try parsePower())
        }
        return left
    }

    mutating func parsePower() throws -> Expression {
        var left = try parseUnary()
        while skip(symbol: "**") { left = .binary(.power, left, try parseUnary()) }
        return left
    }

    mutating func parseUnary(withFilters: Bool = true) throws -> Expression {
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

    mutating func parsePrimary() throws -> Expression {
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

    mutating func parsePostfix(_ base: Expression) throws -> Expression {
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

    mutating func parseSubscript(_ base: Expression) throws -> Expression {
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

    mutating func parseFiltersAndTests(_ base: Expression) throws -> Expression {
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
    func startsTestArgument() -> Bool {
        switch tokens[index].kind {
        case let .name(name): return !["else", "or", "and"].contains(name)
        case .string, .integer, .float: return true
        case let .symbol(symbol): return symbol == "[" || symbol == "{"
        default: return false
        }
    }

    mutating func parseArguments() throws -> Arguments {
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
}
