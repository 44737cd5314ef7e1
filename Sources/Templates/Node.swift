/// A parsed expression: `message['role'] == 'user'`, `tools | tojson(indent=4)`, `x if c else y`.
indirect enum Expression: Sendable {
    case string(String)
    case integer(Int)
    case float(Double)
    case boolean(Bool)
    case none
    case name(String)
    case list([Expression])
    case tuple([Expression])
    case dictionary([(key: Expression, value: Expression)])
    /// `value.name`: an attribute first, then a key (jinja2's `getattr`).
    case attribute(Expression, String)
    /// `value[key]`: a key or index first, then an attribute (jinja2's `getitem`).
    case index(Expression, Expression)
    case slice(Expression, start: Expression?, stop: Expression?, step: Expression?)
    case call(Expression, Arguments)
    case filter(Expression, name: String, Arguments)
    case test(Expression, name: String, Arguments, negated: Bool)
    case not(Expression)
    case negate(Expression)
    case plus(Expression)
    case binary(BinaryOperator, Expression, Expression)
    case and(Expression, Expression)
    case or(Expression, Expression)
    /// `then if condition else otherwise`; without `else` the result is undefined when the condition is false.
    case conditional(condition: Expression, then: Expression, otherwise: Expression?)
}

/// Positional and keyword arguments of a call, filter or test.
struct Arguments: Sendable {
    var positional: [Expression] = []
    var keywords: [(name: String, value: Expression)] = []
    /// `f(*items)`: a list whose items are passed as positional arguments.
    var spread: Expression?
    /// `f(**options)`: a dictionary whose entries are passed as keyword arguments.
    var keywordSpread: Expression?
}

enum BinaryOperator: String, Sendable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", floorDivide = "//", modulo = "%", power = "**"
    case concatenate = "~"
    case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    case contains = "in", notContains = "not in"
}

/// A statement or piece of output, with the position of its tag for error messages.
indirect enum Node: Sendable {
    case text(String)
    case output(Expression, Position)
    case conditional(branches: [(condition: Expression, body: [Node])], otherwise: [Node], Position)
    case loop(Loop)
    case assign(targets: [AssignTarget], value: Expression, Position)
    /// `{% set name %}…{% endset %}`, optionally `{% set name | filter %}`.
    case assignBlock(name: String, filters: [FilterCall], body: [Node], Position)
    case macro(Macro)
    /// `{% call macro(…) %}body{% endcall %}`: the body is the macro's `caller()`.
    case callBlock(call: Expression, callerParameters: [Parameter], body: [Node], Position)
    case filterBlock(filters: [FilterCall], body: [Node], Position)
    /// `{% generation %}…{% endgeneration %}`: transformers' marker of assistant text.
    case generation([Node])
    case breakLoop(Position)
    case continueLoop(Position)
}

/// `{% for targets in iterable if filter %}body{% else %}otherwise{% endfor %}`.
struct Loop: Sendable {
    var targets: [String]
    var iterable: Expression
    var filter: Expression?
    var body: [Node]
    var otherwise: [Node]
    var position: Position
}

/// The left side of `{% set %}`: a variable or a namespace attribute (`ns.found`).
enum AssignTarget: Sendable {
    case name(String)
    case attribute(object: String, name: String)
}

/// A filter applied by a `{% filter %}` block or a set block.
struct FilterCall: Sendable {
    var name: String
    var arguments: Arguments
}

/// A macro's parameter with its optional default.
struct Parameter: Sendable {
    var name: String
    var defaultValue: Expression?
}

struct Macro: Sendable {
    var name: String
    var parameters: [Parameter]
    var body: [Node]
    var position: Position
}
