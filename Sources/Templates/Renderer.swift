import Foundation

/// Runs a parsed template: statements write to an output buffer, expressions evaluate to `TemplateValue`s.
///
/// Scoping follows jinja2: each loop iteration and each macro call gets its own scope (a `set` inside a loop is
/// gone at the next iteration and after the loop, which is why templates use `namespace()`), while `if` blocks
/// share their enclosing scope.
final class Renderer {
    /// Variables visible at one level; lookups fall back to the enclosing scope.
    final class Scope {
        var variables: [String: TemplateValue] = [:]
        let parent: Scope?
        init(parent: Scope?) { self.parent = parent }

        func lookup(_ name: String) -> TemplateValue? {
            var scope: Scope? = self
            while let current = scope {
                if let value = current.variables[name] { return value }
                scope = current.parent
            }
            return nil
        }
    }

    enum Flow { case normal, breakLoop, continueLoop }

    var output = ""
    private var outputBytes = 0
    /// UTF-8 byte ranges of the top-level output written inside `{% generation %}` blocks.
    private(set) var generationRanges: [Range<Int>] = []
    /// Nesting of macro calls, set blocks and filter blocks, whose output is captured rather than emitted.
    private var captureDepth = 0
    /// Nesting of macro calls; a template that recurses without end fails instead of exhausting the stack.
    private var callDepth = 0
    static let maximumCallDepth = 100
    var scope: Scope
    let globals: [String: TemplateValue]
    let environment: TemplateEnvironment

    init(context: [String: TemplateValue], environment: TemplateEnvironment) {
        let root = Scope(parent: nil)
        root.variables = context
        scope = root
        self.environment = environment
        globals = Renderer.makeGlobals(environment)
    }

    func write(_ text: String) {
        output += text
        outputBytes += text.utf8.count
    }

    // MARK: - Statements

    func execute(_ nodes: [Node]) throws -> Flow {
        for node in nodes {
            let flow = try execute(node)
            if flow != .normal { return flow }
        }
        return .normal
    }

    private func execute(_ node: Node) throws -> Flow {
        switch node {
        case let .text(text):
            write(text)
        case let .output(expression, position):
            try located(position) { write(try evaluate(expression).text) }
        case let .conditional(branches, otherwise, position):
            for branch in branches {
                if try located(position, { try evaluate(branch.condition).isTruthy }) { return try execute(branch.body) }
            }
            return try execute(otherwise)
        case let .loop(loop):
            try runLoop(loop)
        case let .assign(targets, expression, position):
            try located(position) { try assign(targets, try evaluate(expression)) }
        case let .assignBlock(name, filters, body, position):
            var value = TemplateValue.string(try capture { _ = try execute(body) })
            try located(position) {
                for filter in filters {
                    value = try applyFilter(filter.name, to: value, filter.arguments)
                }
            }
            scope.variables[name] = value
        case let .macro(macro):
            scope.variables[macro.name] = .function(makeMacro(macro))
        case let .callBlock(callExpression, callerParameters, body, position):
            let caller = makeMacro(Macro(name: "caller", parameters: callerParameters, body: body, position: position))
            try located(position) {
                guard case let .call(callee, arguments) = callExpression else {
                    throw TemplateError(.syntax, "a call block needs a macro call")
                }
                var (positional, keywords) = try evaluateArguments(arguments)
                keywords.append(("caller", .function(caller)))
                write(try self.call(try evaluate(callee), positional, keywords).text)
            }
        case let .filterBlock(filters, body, position):
            var value = TemplateValue.string(try capture { _ = try execute(body) })
            try located(position) {
                for filter in filters { value = try applyFilter(filter.name, to: value, filter.arguments) }
            }
            write(value.text)
        case let .generation(body):
            let start = outputBytes
            let flow = try execute(body)
            if captureDepth == 0 { generationRanges.append(start..<outputBytes) }
            return flow
        case .breakLoop:
            return .breakLoop
        case .continueLoop:
            return .continueLoop
        }
        return .normal
    }

    private func runLoop(_ loop: Loop) throws {
        var items = try located(loop.position) { try iterate(try evaluate(loop.iterable)) }
        let outer = scope
        defer { scope = outer }
        if let filter = loop.filter {
            items = try items.filter { item in
                scope = Scope(parent: outer)
                try located(loop.position) { try bind(loop.targets, to: item) }
                return try located(loop.position) { try evaluate(filter).isTruthy }
            }
        }
        for (index, item) in items.enumerated() {
            scope = Scope(parent: outer)
            try located(loop.position) { try bind(loop.targets, to: item) }
            var info = TemplateDictionary()
            info["index"] = .integer(index + 1)
            info["index0"] = .integer(index)
            info["revindex"] = .integer(items.count - index)
            info["revindex0"] = .integer(items.count - index - 1)
            info["first"] = .boolean(index == 0)
            info["last"] = .boolean(index == items.count - 1)
            info["length"] = .integer(items.count)
            info["depth"] = .integer(1)
            info["depth0"] = .integer(0)
            info["previtem"] = index > 0 ? items[index - 1] : .undefined(reason: "there is no previous item")
            info["nextitem"] = index + 1 < items.count ? items[index + 1] : .undefined(reason: "there is no next item")
            info["cycle"] = .function(TemplateValue.Function(name: "cycle") { arguments, _ in
                guard !arguments.isEmpty else { throw TemplateError(.type, "no items for cycling given") }
                return arguments[index % arguments.count]
            })
            scope.variables["loop"] = .dictionary(info)
            if try execute(loop.body) == .breakLoop { break }
        }
        if items.isEmpty {
            scope = Scope(parent: outer)
            _ = try execute(loop.otherwise)
        }
    }

    private func bind(_ targets: [String], to item: TemplateValue) throws {
        if targets.count == 1 {
            scope.variables[targets[0]] = item
            return
        }
        let parts = try iterate(item)
        guard parts.count == targets.count else {
            throw TemplateError(.type, parts.count > targets.count
                                ? "too many values to unpack (expected \(targets.count))"
                                : "not enough values to unpack (expected \(targets.count), got \(parts.count))")
        }
        for (name, value) in zip(targets, parts) { scope.variables[name] = value }
    }

    private func assign(_ targets: [AssignTarget], _ value: TemplateValue) throws {
        if targets.count == 1, case let .attribute(object, name) = targets[0] {
            guard case let .namespace(namespace) = lookup(object) else {
                throw TemplateError(.type, "cannot assign attribute on non-namespace object")
            }
            namespace.attributes[name] = value
            return
        }
        let names = targets.compactMap { target -> String? in
            if case let .name(name) = target { return name }
            return nil
        }
        try bind(names, to: value)
    }

    /// The items a `for` loop visits: list and tuple items, dictionary keys, a string's characters.
    func iterate(_ value: TemplateValue) throws -> [TemplateValue] {
        switch value {
        case .undefined: return []
        case let .list(items), let .tuple(items): return items
        case let .dictionary(dictionary): return dictionary.keys.map { .string($0) }
        case let .string(text): return text.unicodeScalars.map { .string(String($0)) }
        default: throw TemplateError(.type, "'\(value.typeName)' object is not iterable")
        }
    }

    /// Runs `body` with output captured, returning what it wrote.
    func capture(_ body: () throws -> Void) throws -> String {
        let (savedOutput, savedBytes) = (output, outputBytes)
        output = ""
        outputBytes = 0
        captureDepth += 1
        defer {
            output = savedOutput
            outputBytes = savedBytes
            captureDepth -= 1
        }
        try body()
        return output
    }

    private func makeMacro(_ macro: Macro) -> TemplateValue.Function {
        let definingScope = scope
        return TemplateValue.Function(name: macro.name) { [unowned self] positional, keywords in
            let callScope = Scope(parent: definingScope)
            var remaining = keywords
            var extra: [TemplateValue] = []
            for (index, value) in positional.enumerated() {
                if index < macro.parameters.count {
                    callScope.variables[macro.parameters[index].name] = value
                } else {
                    extra.append(value)
                }
            }
            for parameter in macro.parameters.dropFirst(positional.count) {
                if let found = remaining.firstIndex(where: { $0.0 == parameter.name }) {
                    callScope.variables[parameter.name] = remaining.remove(at: found).1
                }
            }
            var keywordArguments = TemplateDictionary()
            for (name, value) in remaining {
                if name == "caller" { callScope.variables["caller"] = value } else { keywordArguments[name] = value }
            }
            callScope.variables["varargs"] = .list(extra)
            callScope.variables["kwargs"] = .dictionary(keywordArguments)
            guard self.callDepth < Renderer.maximumCallDepth else {
                throw TemplateError(.security, "macro calls nested more than \(Renderer.maximumCallDepth) deep")
            }
            let savedScope = self.scope
            self.scope = callScope
            self.callDepth += 1
            defer {
                self.scope = savedScope
                self.callDepth -= 1
            }
            for parameter in macro.parameters where callScope.variables[parameter.name] == nil {
                callScope.variables[parameter.name] = try parameter.defaultValue.map { try self.evaluate($0) }
                    ?? .undefined(reason: "parameter '\(parameter.name)' was not provided")
            }
            return .string(try self.capture { _ = try self.execute(macro.body) })
        }
    }

    func lookup(_ name: String) -> TemplateValue {
        scope.lookup(name) ?? globals[name] ?? .undefinedName(name)
    }

    /// Runs `body`, giving errors without a location the position of the tag being run.
    func located<T>(_ position: Position, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as TemplateError {
            throw error.located(at: position)
        }
    }
}
