import CKernels

/// Matrix products on the dispatched GEMM kernels, in the current `MatmulPrecision` (so are their gradients).
extension Tensor {
    /// Batched matrix product op(a) · op(b) over the last two axes, without materialising any transpose.
    ///
    /// a: (…, M, K), or (…, K, M) with `transposeA`; b: (…, K, N), or (…, N, K) with `transposeB`.
    /// The leading (batch) axes must be equal, or one operand is a plain matrix shared by the whole batch
    /// (the linear-layer case, computed as one large GEMM). Result: (…, M, N).
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        precondition(a.rank >= 2 && b.rank >= 2, "matmul needs matrices, got \(a.shape) and \(b.shape)")
        let aBatch = Array(a.shape.dropLast(2)), bBatch = Array(b.shape.dropLast(2))
        let m = transposeA ? a.shape[a.rank - 1] : a.shape[a.rank - 2]
        let k = transposeA ? a.shape[a.rank - 2] : a.shape[a.rank - 1]
        let kB = transposeB ? b.shape[b.rank - 1] : b.shape[b.rank - 2]
        let n = transposeB ? b.shape[b.rank - 2] : b.shape[b.rank - 1]
        precondition(k == kB, "matmul inner sizes differ: \(a.shape)\(transposeA ? "ᵀ" : "") · \(b.shape)\(transposeB ? "ᵀ" : "")")
        precondition(aBatch == bBatch || aBatch.isEmpty || bBatch.isEmpty,
                     "matmul batch axes \(aBatch) and \(bBatch) must match (or one operand be a matrix)")
        let batchShape = aBatch.isEmpty ? bBatch : aBatch
        let batch = batchShape.elementCount
        let lda = a.shape[a.rank - 1], ldb = b.shape[b.rank - 1]
        let result = Tensor.make(batchShape + [m, n]) { c in
            if bBatch.isEmpty && !transposeA {
                // Fold the batch into the rows: one large, well-shaped GEMM.
                sgemm(0, transposeB ? 1 : 0, Int64(batch * m), Int64(n), Int64(k), 1,
                      a.storage.pointer, Int64(lda), b.storage.pointer, Int64(ldb), 0, c, Int64(n))
            } else {
                sgemmBatched(transposeA ? 1 : 0, transposeB ? 1 : 0, Int64(m), Int64(n), Int64(k), 1,
                             a.storage.pointer, Int64(lda), aBatch.isEmpty ? 0 : Int64(m * k),
                             b.storage.pointer, Int64(ldb), bBatch.isEmpty ? 0 : Int64(k * n),
                             0, c, Int64(n), Int64(m * n), Int64(batch))
            }
        }
        return record(result, Operation.matmul(transposeA: transposeA, transposeB: transposeB), inputs: [a, b])
    }

    /// self · other (see `Tensor.matmul`).
    public func matmul(_ other: Tensor, transposeOther: Bool = false) -> Tensor {
        Tensor.matmul(self, other, transposeB: transposeOther)
    }

    /// Gradients of matmul: with C = op(A)·op(B) and G = ∂L/∂C, ∂L/∂op(A) = G·op(B)ᵀ and ∂L/∂op(B) = op(A)ᵀ·G.
    /// ∂A reads only B and ∂B only A, so each operand is needed only when the other takes a gradient.
    static func matmulGradients(_ a: Tensor?, _ b: Tensor?, shapes: (a: Shape, b: Shape), transposeA: Bool, transposeB: Bool,
                                _ g: Tensor, needA: Bool = true, needB: Bool = true) -> [Tensor?] {
        func operand(_ value: Tensor?, _ name: String) -> Tensor {
            guard let value else { preconditionFailure("matmul gradient needs \(name), which the tape did not keep") }
            return value
        }
        let gradientA = !needA ? nil : transposeA
            ? matmul(operand(b, "B"), g, transposeA: transposeB, transposeB: true)   // op(B)·Gᵀ = (G·op(B)ᵀ)ᵀ
            : matmul(g, operand(b, "B"), transposeB: !transposeB)
        var gradientB: Tensor?
        if !needB {
            gradientB = nil
        } else if shapes.b.count == 2 && shapes.a.count > 2 && !transposeA {
            // Shared weight: fold the batch into the reduction axis instead of summing per-batch products.
            let a = operand(a, "A")
            let rows = a.count / a.shape[a.rank - 1]
            let aFlat = a.reshapedWithoutTape([rows, a.shape[a.rank - 1]])
            let gFlat = g.reshapedWithoutTape([rows, g.shape[g.rank - 1]])
            gradientB = transposeB ? matmul(gFlat, aFlat, transposeA: true) : matmul(aFlat, gFlat, transposeA: true)
        } else {
            gradientB = transposeB
                ? matmul(g, operand(a, "A"), transposeA: true, transposeB: transposeA)   // Gᵀ·op(A)
                : matmul(operand(a, "A"), g, transposeA: !transposeA)
        }
        return [gradientA?.summed(toShape: shapes.a), gradientB?.summed(toShape: shapes.b)]
    }
}
