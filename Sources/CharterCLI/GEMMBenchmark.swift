import ArgumentParser
import CKernels
import Foundation
import Tensors

/// `charter bench gemm`: GFLOP/s of ck_sgemm (ck_sgemm_bf16 with `--bf16`, ck_qgemm with `--quantized`) on square and
/// language-model shapes, one JSON line per shape, in the same format as Benchmarks/pytorch/bench_gemm.py so the two can
/// be compared line by line.
struct GEMMBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "Measure single-precision GEMM throughput (GFLOP/s = 2·m·n·k / median time).")

    @Option(help: "Timed runs per shape (after one warm-up run); the median is reported.")
    var repeats = 5

    @Option(help: "Threads (default: CHARTER_THREADS, else the number of online CPUs).")
    var threads: Int?

    @Option(help: "Instruction-set path: auto, portable, avx2, avx512 or neon.")
    var path = "auto"

    @Flag(help: "bf16 operands, fp32 accumulation (ck_sgemm_bf16): VDPBF16PS on AVX512-BF16, else operands rounded for the float kernels.")
    var bf16 = false

    @Option(help: "Weights in a ggml block format (f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, q5_k, q6_k): C = A·Bᵀ with B n×k in that format, multiplied by the quantized kernels (ck_qgemm: below 16–48 rows of A by type the decode kernels, from there the decode-then-GEMM path; ck_q_gemm_rows).")
    var quantized: String?

    @Flag(help: "C = A·Bᵀ with B stored n×k, as a linear layer multiplies its weights (float32 only; a decode batch is m rows).")
    var transB = false

    @Option(help: "Comma-separated shapes m×n×k (C is m×n, inner dimension k), written with x.")
    var shapes = "256x256x256,512x512x512,1024x1024x1024,2048x2048x2048,2048x768x768,2048x3072x768,2048x768x3072"

    func validate() throws {
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1, got \(repeats)") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        _ = try parsedShapes()
        _ = try pathCode()
        _ = try quantizedFormat()
        if transB, bf16 || quantized != nil { throw ValidationError("--trans-b is for float32 weights: drop --bf16 or --quantized (--quantized already multiplies by Bᵀ)") }
    }

    /// The `--quantized` format, or nil for float32 (or bf16) weights.
    func quantizedFormat() throws -> QuantizedMatrix.Format? {
        guard let quantized else { return nil }
        guard !bf16 else { throw ValidationError("--bf16 and --quantized are different weight formats: choose one") }
        guard let format = QuantizedMatrix.Format(rawValue: quantized.lowercased()) else {
            throw ValidationError("--quantized \(quantized): use one of \(QuantizedMatrix.Format.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return format
    }

    func run() throws {
        let code = try pathCode()
        guard ck_set_path(code) == 0 else {
            throw ValidationError("path \(path) is not supported by this CPU")
        }
        if let threads { ck_set_num_threads(Int32(threads)) }
        let format = try quantizedFormat()
        let pathName = format != nil ? QuantizedMatrix.kernelName
                                     : String(cString: bf16 ? ck_bf16_path_name() : ck_path_name(ck_active_path()))
        for (m, n, k) in try parsedShapes() {
            let seconds = try format.map { try measureQuantized(m: m, n: n, k: k, format: $0) } ?? measure(m: m, n: n, k: k)
            let gflops = 2 * Double(m) * Double(n) * Double(k) / seconds / 1e9
            print("{\"m\":\(m),\"n\":\(n),\"k\":\(k),\"gflops\":\(String(format: "%.2f", gflops)),"
                + "\"path\":\"\(pathName)\",\(transB ? "\"trans_b\":true," : "")\"precision\":\"\(format?.rawValue ?? (bf16 ? "bf16" : "fp32"))\",\"threads\":\(ck_get_num_threads()),"
                + "\"impl\":\"charter\"}")
        }
    }

    /// Median seconds of `repeats` products C = A·Bᵀ (A: m×k float32, B: n×k in `format`), after one warm-up. B is
    /// quantized from the same values as `measure`'s; the k-quants, which have no quantizer, get valid superblocks of
    /// patterned bytes under d (and dmin) = 2^-7 (the kernels' time does not depend on the values).
    func measureQuantized(m: Int, n: Int, k: Int, format: QuantizedMatrix.Format) throws -> Double {
        let a = (0..<(m * k)).map { Float(($0 * 7) % 13) / 13 - 0.5 }
        let source = "bench gemm \(m)x\(n)x\(k)"
        let weights: QuantizedMatrix
        if format.hasQuantizer {
            let b = Tensor(shape: [n, k], scalars: (0..<(n * k)).map { Float(($0 * 5) % 11) / 11 - 0.5 })
            weights = try QuantizedMatrix(quantizing: b, format: format, source: source)
        } else {
            guard k % format.blockSize == 0 else {
                throw ValidationError("\(source): k = \(k) is not whole \(format.ggmlName) blocks of \(format.blockSize)")
            }
            let blockCount = n * k / format.blockSize
            var bytes = (0..<(blockCount * format.blockBytes)).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            // The superblock's f16 scales: d and dmin first (Q4_K, Q5_K), or d last (Q6_K).
            let halves = format == .q6_K ? [format.blockBytes - 2] : [0, 2]
            for block in 0..<blockCount {
                for offset in halves {  // the half 2^-7 (0x2000), little-endian
                    let start = block * format.blockBytes + offset
                    bytes.replaceSubrange(start..<(start + 2), with: [0x00, 0x20])
                }
            }
            weights = try bytes.withUnsafeBytes { try QuantizedMatrix(format: format, rows: n, columns: k, data: $0, source: source) }
        }
        let x = Tensor(shape: [m, k], scalars: a)
        return medianSeconds { _ = Tensor.matmul(x, quantized: weights) }
    }

    /// Median seconds of `repeats` calls of `product`, after one warm-up call.
    func medianSeconds(_ product: () -> Void) -> Double {
        product()
        var times: [Double] = []
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            product()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return times.sorted()[times.count / 2]
    }

    /// Median seconds of `repeats` products C = A·B (A: m×k, B: k×n; with `--trans-b`, C = A·Bᵀ, B: n×k), after one
    /// warm-up.
    func measure(m: Int, n: Int, k: Int) -> Double {
        let a = (0..<(m * k)).map { Float(($0 * 7) % 13) / 13 - 0.5 }
        let b = (0..<(k * n)).map { Float(($0 * 5) % 11) / 11 - 0.5 }
        var c = [Float](repeating: 0, count: m * n)
        return medianSeconds {
            if bf16 {
                ck_sgemm_bf16(0, 0, Int64(m), Int64(n), Int64(k), 1, a, Int64(k), b, Int64(n), 0, &c, Int64(n))
            } else if transB {
                ck_sgemm(0, 1, Int64(m), Int64(n), Int64(k), 1, a, Int64(k), b, Int64(k), 0, &c, Int64(n))
            } else {
                ck_sgemm(0, 0, Int64(m), Int64(n), Int64(k), 1, a, Int64(k), b, Int64(n), 0, &c, Int64(n))
            }
        }
    }

    func parsedShapes() throws -> [(Int, Int, Int)] {
        try shapes.split(separator: ",").map { shape in
            let parts = shape.split(separator: "x").compactMap { Int($0) }
            guard parts.count == 3, parts.allSatisfy({ $0 >= 1 }) else {
                throw ValidationError("bad shape '\(shape)': expected m×n×k written as e.g. 1024x1024x1024")
            }
            return (parts[0], parts[1], parts[2])
        }
    }

    func pathCode() throws -> Int32 {
        let codes: [String: ck_path] = [
            "auto": CK_PATH_AUTO, "portable": CK_PATH_PORTABLE, "avx2": CK_PATH_AVX2,
            "avx512": CK_PATH_AVX512, "neon": CK_PATH_NEON,
        ]
        guard let code = codes[path] else {
            throw ValidationError("unknown --path \(path): use auto, portable, avx2, avx512 or neon")
        }
        return Int32(code.rawValue)
    }
}
