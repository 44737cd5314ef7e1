import CKernels

/// The precision of every matrix product on the tape (`Tensor.matmul`, forward and both gradient products, and
/// the chunked output projection of `projectedLogProbabilities`).
///
/// `.bfloat16` is mixed precision as PyTorch's `torch.autocast(dtype=torch.bfloat16)` does it for matmuls: each
/// operand is rounded to bfloat16 (to nearest, ties to even), the products are summed in fp32 and the result is
/// fp32. Weights (the master copy), gradients, optimizer state, norms, softmax and losses stay fp32. On a CPU with
/// AVX512-BF16 the products run on VDPBF16PS; elsewhere the path's float kernels multiply the rounded operands
/// (same values up to summation order, no faster than fp32). `bfloat16KernelPath` says which.
///
/// A process-wide setting, like `ComputeThreads.count`: set it once per run, before training starts.
public enum MatmulPrecision: String, Sendable, CaseIterable {
    case float32
    case bfloat16

    public static var current: MatmulPrecision {
        get { ck_matmul_precision() == Int32(CK_MATMUL_BF16.rawValue) ? .bfloat16 : .float32 }
        set { ck_set_matmul_precision(Int32((newValue == .bfloat16 ? CK_MATMUL_BF16 : CK_MATMUL_FP32).rawValue)) }
    }

    /// Where bf16 products run under the active kernel path: "avx512bf16" (VDPBF16PS), or "avx2+convert",
    /// "portable+convert", … (the path's float kernels on operands rounded to bf16).
    public static var bfloat16KernelPath: String { String(cString: ck_bf16_path_name()) }

    /// What a run with bf16 on does, and on which kernels, in one line (the trainer commands and pipeline stages print it).
    public static var bfloat16Note: String {
        let kernels = bfloat16InstructionsAvailable && bfloat16KernelPath == "avx512bf16"
            ? "VDPBF16PS" : "\(bfloat16KernelPath): float kernels on rounded operands, no faster than fp32"
        return "bf16: true: matmul operands rounded to bfloat16, fp32 accumulation, fp32 weights and optimizer state (\(kernels))"
    }

    /// True if this CPU has the AVX512-BF16 dot-product instruction.
    public static var bfloat16InstructionsAvailable: Bool { ck_bf16_supported() != 0 }

    /// x rounded to the nearest bfloat16 (ties to even, NaN to the quiet NaN 0x7FC0), as `tensor.to(torch.bfloat16)`.
    public static func roundedToBFloat16(_ x: Float) -> Float { ck_round_bf16(x) }
}

/// ck_sgemm in the current `MatmulPrecision` (arguments as ck_sgemm's).
@inline(__always)
func sgemm(_ transA: Int32, _ transB: Int32, _ m: Int64, _ n: Int64, _ k: Int64, _ alpha: Float,
           _ a: UnsafePointer<Float>?, _ lda: Int64, _ b: UnsafePointer<Float>?, _ ldb: Int64,
           _ beta: Float, _ c: UnsafeMutablePointer<Float>?, _ ldc: Int64) {
    if MatmulPrecision.current == .bfloat16 {
        ck_sgemm_bf16(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    } else {
        ck_sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    }
}

/// ck_sgemm_batched in the current `MatmulPrecision` (arguments as ck_sgemm_batched's).
@inline(__always)
func sgemmBatched(_ transA: Int32, _ transB: Int32, _ m: Int64, _ n: Int64, _ k: Int64, _ alpha: Float,
                  _ a: UnsafePointer<Float>?, _ lda: Int64, _ strideA: Int64,
                  _ b: UnsafePointer<Float>?, _ ldb: Int64, _ strideB: Int64,
                  _ beta: Float, _ c: UnsafeMutablePointer<Float>?, _ ldc: Int64, _ strideC: Int64, _ batch: Int64) {
    if MatmulPrecision.current == .bfloat16 {
        ck_sgemm_batched_bf16(transA, transB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC, batch)
    } else {
        ck_sgemm_batched(transA, transB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC, batch)
    }
}
