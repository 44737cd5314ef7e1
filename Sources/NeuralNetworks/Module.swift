import Tensors

/// A layer or model: a class whose stored properties hold its parameters (tensors) and sub-modules.
///
/// Parameters are found by reflection, so a layer only declares its stored properties (as in mlx-swift):
/// a stored `Tensor` is a parameter, a stored `Module` (or array/optional of them) is a sub-module, and names
/// are the dotted property paths (`blocks.0.attention.query.weight`).
public protocol Module: AnyObject {}

extension Module {
    /// Every parameter with its dotted name, in declaration order.
    public func namedParameters() -> [(name: String, tensor: Tensor)] {
        var result: [(String, Tensor)] = []
        collectParameters(of: self, prefix: "", into: &result)
        return result
    }

    /// Every parameter, in declaration order.
    public func parameters() -> [Tensor] { namedParameters().map(\.tensor) }

    /// Parameters that require a gradient (the ones an optimizer updates).
    public func trainableParameters() -> [Tensor] { parameters().filter(\.requiresGrad) }

    /// Total number of scalar parameters.
    public var parameterCount: Int { parameters().reduce(0) { $0 + $1.count } }

    /// Stops (or restarts) gradient computation for every parameter of this module.
    public func setTrainable(_ trainable: Bool) {
        for parameter in parameters() { parameter.requiresGrad = trainable }
    }

    /// Clears the gradients of every parameter.
    public func zeroGradients() {
        for parameter in parameters() { parameter.grad = nil }
    }
}

private func collectParameters(of value: Any, prefix: String, into result: inout [(String, Tensor)]) {
    for child in Mirror(reflecting: value).children {
        guard let label = child.label else { continue }
        let name = prefix + label.trimmingPrefix("_")
        collectValue(child.value, name: name, into: &result)
    }
}

private func collectValue(_ value: Any, name: String, into result: inout [(String, Tensor)]) {
    switch value {
    case let tensor as Tensor:
        result.append((name, tensor))
    case let module as Module:
        collectParameters(of: module, prefix: name + ".", into: &result)
    case let modules as [Module]:
        for (index, module) in modules.enumerated() { collectParameters(of: module, prefix: "\(name).\(index).", into: &result) }
    case let tensors as [Tensor]:
        for (index, tensor) in tensors.enumerated() { result.append(("\(name).\(index)", tensor)) }
    default:
        // Optionals: look through one level.
        let mirror = Mirror(reflecting: value)
        if mirror.displayStyle == .optional, let wrapped = mirror.children.first?.value {
            collectValue(wrapped, name: name, into: &result)
        }
    }
}

extension String {
    fileprivate func trimmingPrefix(_ prefix: String) -> String { hasPrefix(prefix) ? String(dropFirst(prefix.count)) : self }
}
