import CKernels

/// The binary arithmetic that broadcasts (NumPy rules: shapes are aligned at their last axis, and an axis of
/// size 1 stretches to the other's size).
enum BinaryKind {
    case add, subtract, multiply, divide

    @inline(__always) func apply(_ x: Float, _ y: Float) -> Float {
        switch self {
        case .add: return x + y
        case .subtract: return x - y
        case .multiply: return x * y
        case .divide: return x / y
        }
    }
}

/// The result shape of broadcasting `a` against `b`.
func broadcastShape(_ a: Shape, _ b: Shape) -> Shape {
    let rank = max(a.count, b.count)
    var result = Shape(repeating: 1, count: rank)
    for axis in 0..<rank {
        let x = axis < rank - a.count ? 1 : a[axis - (rank - a.count)]
        let y = axis < rank - b.count ? 1 : b[axis - (rank - b.count)]
        precondition(x == y || x == 1 || y == 1, "shapes \(a) and \(b) do not broadcast")
        result[axis] = x == 1 ? y : x
    }
    return result
}

/// Row-major strides of `shape` placed in a result of rank `rank`, with 0 on broadcast axes.
func broadcastStrides(_ shape: Shape, to result: Shape) -> [Int] {
    let offset = result.count - shape.count
    var strides = [Int](repeating: 0, count: result.count)
    var step = 1
    for axis in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[axis + offset] = shape[axis] == 1 ? 0 : step
        step *= shape[axis]
    }
    return strides
}

extension Tensor {
    static func binary(_ kind: BinaryKind, _ a: Tensor, _ b: Tensor) -> Tensor {
        let shape = a.shape == b.shape ? a.shape : broadcastShape(a.shape, b.shape)
        let result = Tensor.make(shape) { out in
            let x = a.storage.pointer, y = b.storage.pointer, n = shape.elementCount
            if a.count == n && b.count == n {
                switch kind {
                case .add: for i in 0..<n { out[i] = x[i] + y[i] }
                case .subtract: for i in 0..<n { out[i] = x[i] - y[i] }
                case .multiply: for i in 0..<n { out[i] = x[i] * y[i] }
                case .divide: for i in 0..<n { out[i] = x[i] / y[i] }
                }
            } else if b.count == 1 {
                let s = y[0]
                for i in 0..<n { out[i] = kind.apply(x[i], s) }
            } else if a.count == 1 {
                let s = x[0]
                for i in 0..<n { out[i] = kind.apply(s, y[i]) }
            } else if a.count == n, n % b.count == 0, isTrailingBroadcast(b.shape, of: shape) {
                // (…, C) ∘ (C): the common bias/scale case.
                let inner = b.count
                for row in 0..<(n / inner) {
                    let base = row * inner
                    for j in 0..<inner { out[base + j] = kind.apply(x[base + j], y[j]) }
                }
            } else {
                stridedBinary(kind, shape, x, broadcastStrides(a.shape, to: shape),
                              y, broadcastStrides(b.shape, to: shape), out)
            }
        }
        return result.record(Operation.binary(kind), inputs: [a, b])
    }

    /// True when `small` equals the trailing axes of `shape` (ignoring its leading 1s).
    private static func isTrailingBroadcast(_ small: Shape, of shape: Shape) -> Bool {
        let trimmed = small.drop(while: { $0 == 1 })
        return trimmed.count <= shape.count && Array(shape.suffix(trimmed.count)) == Array(trimmed)
    }

    private static func stridedBinary(_ kind: BinaryKind, _ shape: Shape,
                                      _ x: UnsafePointer<Float>, _ xStrides: [Int],
                                      _ y: UnsafePointer<Float>, _ yStrides: [Int],
                                      _ out: UnsafeMutablePointer<Float>) {
        let rank = shape.count
        guard rank > 0 else { out[0] = kind.apply(x[0], y[0]); return }
        let inner = shape[rank - 1], xInner = xStrides[rank - 1], yInner = yStrides[rank - 1]
        let outer = shape.elementCount / Swift.max(inner, 1)
        var index = [Int](repeating: 0, count: rank)
        var xOffset = 0, yOffset = 0
        for row in 0..<outer {
            let base = row * inner
            for j in 0..<inner { out[base + j] = kind.apply(x[xOffset + j * xInner], y[yOffset + j * yInner]) }
            // Advance the multi-index over all axes but the last.
            var axis = rank - 2
            while axis >= 0 {
                index[axis] += 1
                xOffset += xStrides[axis]; yOffset += yStrides[axis]
                if index[axis] < shape[axis] { break }
                xOffset -= xStrides[axis] * shape[axis]; yOffset -= yStrides[axis] * shape[axis]
                index[axis] = 0
                axis -= 1
            }
        }
    }

    public static func + (a: Tensor, b: Tensor) -> Tensor { binary(.add, a, b) }
    public static func - (a: Tensor, b: Tensor) -> Tensor { binary(.subtract, a, b) }
    public static func * (a: Tensor, b: Tensor) -> Tensor { binary(.multiply, a, b) }
    public static func / (a: Tensor, b: Tensor) -> Tensor { binary(.divide, a, b) }
    public static func + (a: Tensor, b: Float) -> Tensor { a.affine(scale: 1, shift: b) }
    public static func - (a: Tensor, b: Float) -> Tensor { a.affine(scale: 1, shift: -b) }
    public static func * (a: Tensor, b: Float) -> Tensor { a.affine(scale: b, shift: 0) }
    public static func / (a: Tensor, b: Float) -> Tensor { a.affine(scale: 1 / b, shift: 0) }
    public static func + (a: Float, b: Tensor) -> Tensor { b.affine(scale: 1, shift: a) }
    public static func - (a: Float, b: Tensor) -> Tensor { b.affine(scale: -1, shift: a) }
    public static func * (a: Float, b: Tensor) -> Tensor { b.affine(scale: a, shift: 0) }
    public static prefix func - (a: Tensor) -> Tensor { a.affine(scale: -1, shift: 0) }

    /// scale · x + shift, elementwise.
    public func affine(scale: Float, shift: Float) -> Tensor {
        let x = storage.pointer
        return Tensor.make(shape) { out in
            for i in 0..<count { out[i] = scale * x[i] + shift }
        }.record(Operation.affine(scale: scale), inputs: [self])
    }

    /// Applies a unary function, recording it for the gradient.
    func unary(_ kind: UnaryKind) -> Tensor {
        let n = count, x = storage.pointer
        let result = Tensor.make(shape) { y in
            switch kind {
            case .exp: ck_vexp(Int64(n), x, y)
            case .log: ck_vlog(Int64(n), x, y)
            case .tanh: ck_vtanh(Int64(n), x, y)
            case .sigmoid: ck_vsigmoid(Int64(n), x, y)
            case .geluTanh: ck_gelu_tanh_forward(Int64(n), x, y)
            case .geluErf: ck_gelu_erf_forward(Int64(n), x, y)
            case .silu: ck_silu_forward(Int64(n), x, y)
            case .relu: for i in 0..<n { y[i] = x[i] > 0 ? x[i] : 0 }
            case .sqrt: for i in 0..<n { y[i] = x[i].squareRoot() }
            case .square: for i in 0..<n { y[i] = x[i] * x[i] }
            case .abs: for i in 0..<n { y[i] = Swift.abs(x[i]) }
            case .power(let p): for i in 0..<n { y[i] = Float(libmPow(Double(x[i]), Double(p))) }
            }
        }
        return result.record(Operation.unary(kind), inputs: [self])
    }

    public func exp() -> Tensor { unary(.exp) }
    public func log() -> Tensor { unary(.log) }
    public func tanh() -> Tensor { unary(.tanh) }
    public func sigmoid() -> Tensor { unary(.sigmoid) }
    /// GELU; `approximate: true` is the tanh form used by GPT-2, false the exact erf form.
    public func gelu(approximate: Bool = false) -> Tensor { unary(approximate ? .geluTanh : .geluErf) }
    /// SiLU (swish): x · σ(x).
    public func silu() -> Tensor { unary(.silu) }
    public func relu() -> Tensor { unary(.relu) }
    public func sqrt() -> Tensor { unary(.sqrt) }
    public func squared() -> Tensor { unary(.square) }
    public func abs() -> Tensor { unary(.abs) }
    public func pow(_ exponent: Float) -> Tensor { unary(.power(exponent)) }

    /// Clamps every element to [lower, upper]; the gradient passes where the element was inside.
    public func clamped(min lower: Float = -.infinity, max upper: Float = .infinity) -> Tensor {
        let x = storage.pointer
        return Tensor.make(shape) { y in
            for i in 0..<count { y[i] = Swift.min(Swift.max(x[i], lower), upper) }
        }.record(Operation.clamp(lower: lower, upper: upper), inputs: [self])
    }
}

/// Unary functions with a gradient rule in `Operation+Gradients.swift`.
enum UnaryKind {
    case exp, log, tanh, sigmoid, geluTanh, geluErf, silu, relu, sqrt, square, abs
    case power(Float)
}

#if canImport(Glibc)
import Glibc
@inline(__always) func libmPow(_ x: Double, _ y: Double) -> Double { Glibc.pow(x, y) }
#elseif canImport(Darwin)
import Darwin
@inline(__always) func libmPow(_ x: Double, _ y: Double) -> Double { Darwin.pow(x, y) }
#endif
