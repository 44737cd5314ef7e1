/// Creating tensors.
extension Tensor {
    public static func zeros(_ shape: Shape) -> Tensor { full(shape, 0) }

    /// A tensor whose elements are not set, its memory not even touched: for weights a checkpoint overwrites right
    /// away (reading one before it is written reads garbage).
    public static func uninitialized(_ shape: Shape) -> Tensor {
        Tensor(shape: shape, storage: TensorStorage(uninitializedCount: shape.elementCount))
    }
    public static func ones(_ shape: Shape) -> Tensor { full(shape, 1) }

    /// A tensor with every element equal to `value`.
    public static func full(_ shape: Shape, _ value: Float) -> Tensor {
        Tensor(shape: shape, storage: TensorStorage(repeating: value, count: shape.elementCount))
    }

    /// 0, 1, …, count − 1 as floats.
    public static func arange(_ count: Int) -> Tensor {
        make([count]) { out in for i in 0..<count { out[i] = Float(i) } }
    }

    /// Samples of N(mean, std²) drawn from `generator`, in row-major order.
    public static func randomNormal(_ shape: Shape, mean: Float = 0, standardDeviation: Float = 1,
                                    generator: inout SeededGenerator) -> Tensor {
        make(shape) { out in
            for i in 0..<shape.elementCount { out[i] = mean + standardDeviation * generator.nextNormal() }
        }
    }

    /// Samples of U[lower, upper) drawn from `generator`, in row-major order.
    public static func randomUniform(_ shape: Shape, lower: Float = 0, upper: Float = 1,
                                     generator: inout SeededGenerator) -> Tensor {
        make(shape) { out in
            for i in 0..<shape.elementCount { out[i] = lower + (upper - lower) * generator.nextUniform() }
        }
    }

    /// Inverted dropout's mask, as torch.nn.Dropout draws it: per element in row-major order, 1/keep where the next
    /// uniform of `generator` is below `keep`, else 0. One tight loop on a local copy of the generator (a mask is as
    /// large as the activations it drops: a LoRA run on a real model draws hundreds of millions per step).
    public static func dropoutMask(_ shape: Shape, keep: Float, generator: inout SeededGenerator) -> Tensor {
        var local = generator
        defer { generator = local }
        let kept = 1 / keep
        return make(shape) { out in
            for i in 0..<shape.elementCount { out[i] = local.nextUniform() < keep ? kept : 0 }
        }
    }

    /// A tensor of the same shape filled with `value`.
    public func filled(with value: Float) -> Tensor { Tensor.full(shape, value) }
}
