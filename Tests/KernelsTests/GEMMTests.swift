import CKernels
import Runtime
import XCTest

/// ck_sgemm / ck_sgemm_batched against a double-precision reference on every path the CPU supports, with 1
/// and 2 threads, on sizes that straddle the micro-tiles (1, 7, 63, 129), both transposes, padded strides,
/// alpha/beta, multiple K and N blocks, and stride-0 broadcast in the batch.
final class GEMMTests: XCTestCase {
    /// One product: C (M×N) = alpha · op(A) · op(B) + beta · C, each matrix padded past its width.
    struct Case {
        var M: Int, N: Int, K: Int
        var transA = false, transB = false
        var alpha: Float = 1, beta: Float = 0
        var padding = 0  // extra elements per row of A, B and C (lda > width)
        var batch = 1
        var broadcastA = false, broadcastB = false
    }

    /// Deterministic values in [-1, 1) (Runtime's SplitMix64), so failures reproduce.
    struct Generator {
        var random: SplitMix64
        init(state: UInt64) { random = SplitMix64(seed: state) }
        mutating func next() -> Float { Float(random.next() >> 40) / Float(1 << 23) - 1 }
    }

    /// Operands of a case; padding elements of A and B are NaN so reading them poisons the result, and
    /// padding of C holds a sentinel that must survive.
    struct Operands {
        var a: [Float], b: [Float], c: [Float]
        let lda: Int, ldb: Int, ldc: Int
        let strideA: Int, strideB: Int, strideC: Int

        init(_ t: Case, seed: UInt64, cFill: Float? = nil) {
            var random = Generator(state: seed)
            let (aRows, aCols) = t.transA ? (t.K, t.M) : (t.M, t.K)
            let (bRows, bCols) = t.transB ? (t.N, t.K) : (t.K, t.N)
            lda = aCols + t.padding
            ldb = bCols + t.padding
            ldc = t.N + t.padding
            strideA = t.broadcastA ? 0 : aRows * lda
            strideB = t.broadcastB ? 0 : bRows * ldb
            strideC = t.M * ldc
            func fill(_ count: Int, rows: Int, cols: Int, ld: Int, pad: Float, value: Float?) -> [Float] {
                var x = [Float](repeating: pad, count: max(count, 1))
                for m in 0..<(count / max(rows * ld, 1)) {
                    for r in 0..<rows { for j in 0..<cols { x[m * rows * ld + r * ld + j] = value ?? random.next() } }
                }
                return x
            }
            a = fill(max(strideA, aRows * lda) * (t.broadcastA ? 1 : t.batch), rows: aRows, cols: aCols, ld: lda,
                     pad: .nan, value: nil)
            b = fill(max(strideB, bRows * ldb) * (t.broadcastB ? 1 : t.batch), rows: bRows, cols: bCols, ld: ldb,
                     pad: .nan, value: nil)
            c = fill(strideC * t.batch, rows: t.M, cols: t.N, ld: ldc, pad: 1234, value: cFill)
        }
    }

    /// Which product a check runs: ck_sgemm(_batched), or ck_sgemm(_batched)_bf16, whose reference rounds every
    /// operand to bf16 first (BF16GEMMTests).
    enum Product { case float, bf16 }

    /// The reference in double precision, with the error bound the float result must meet.
    static func reference(_ t: Case, _ x: Operands, product: Product = .float) -> (c: [Double], tolerance: Double) {
        let operand: (Float) -> Double = product == .bf16 ? { Double(ck_round_bf16($0)) } : { Double($0) }
        var c = x.c.map(Double.init)
        var maxA = 0.0, maxB = 0.0, maxC = 0.0
        for b in 0..<t.batch {
            let a0 = b * x.strideA, b0 = b * x.strideB, c0 = b * x.strideC
            for i in 0..<t.M {
                for j in 0..<t.N {
                    var sum = 0.0
                    for p in 0..<t.K {
                        let a = operand(x.a[a0 + (t.transA ? p * x.lda + i : i * x.lda + p)])
                        let bv = operand(x.b[b0 + (t.transB ? j * x.ldb + p : p * x.ldb + j)])
                        sum += a * bv
                        maxA = max(maxA, abs(a))
                        maxB = max(maxB, abs(bv))
                    }
                    let old = c[c0 + i * x.ldc + j]
                    maxC = max(maxC, t.beta == 0 ? 0 : abs(old))
                    c[c0 + i * x.ldc + j] = Double(t.alpha) * sum + (t.beta == 0 ? 0 : Double(t.beta) * old)
                }
            }
        }
        let bound = Double(abs(t.alpha)) * Double(t.K) * maxA * maxB + Double(abs(t.beta)) * maxC
        return (c, 2e-6 * bound + 1e-30)
    }

    func run(_ t: Case, _ x: inout Operands) { Self.run(t, &x) }

    static func run(_ t: Case, _ x: inout Operands, product: Product = .float) {
        let (single, batched) = product == .bf16 ? (ck_sgemm_bf16, ck_sgemm_batched_bf16) : (ck_sgemm, ck_sgemm_batched)
        x.a.withUnsafeBufferPointer { a in
            x.b.withUnsafeBufferPointer { b in
                x.c.withUnsafeMutableBufferPointer { c in
                    if t.batch == 1 && !t.broadcastA && !t.broadcastB {
                        single(t.transA ? 1 : 0, t.transB ? 1 : 0, Int64(t.M), Int64(t.N), Int64(t.K), t.alpha,
                               a.baseAddress, Int64(x.lda), b.baseAddress, Int64(x.ldb), t.beta, c.baseAddress,
                               Int64(x.ldc))
                    } else {
                        batched(t.transA ? 1 : 0, t.transB ? 1 : 0, Int64(t.M), Int64(t.N), Int64(t.K),
                                t.alpha, a.baseAddress, Int64(x.lda), Int64(x.strideA), b.baseAddress,
                                Int64(x.ldb), Int64(x.strideB), t.beta, c.baseAddress, Int64(x.ldc),
                                Int64(x.strideC), Int64(t.batch))
                    }
                }
            }
        }
    }

    func check(_ t: Case, label: String, cFill: Float? = nil, file: StaticString = #filePath, line: UInt = #line) {
        Self.check(t, label: label, cFill: cFill, file: file, line: line)
    }

    static func check(_ t: Case, label: String, cFill: Float? = nil, product: Product = .float,
                      file: StaticString = #filePath, line: UInt = #line) {
        var x = Operands(t, seed: UInt64(t.M * 1_000_003 + t.N * 1009 + t.K), cFill: cFill)
        let (expected, tolerance) = reference(t, x, product: product)
        run(t, &x, product: product)
        var worst = 0.0, worstIndex = 0
        for index in 0..<expected.count {
            let error = abs(Double(x.c[index]) - expected[index])
            if !(error <= worst) { worst = error; worstIndex = index }  // NaN counts as the worst
        }
        XCTAssert(worst <= tolerance,
                  "\(label) \(t): |error| \(worst) > \(tolerance) at C[\(worstIndex)] = \(x.c[worstIndex]), "
                      + "expected \(expected[worstIndex])", file: file, line: line)
    }

    /// Every path the CPU supports, paired with 1 and 2 threads; restores AUTO and the thread count after.
    func forEachConfiguration(_ body: (String) -> Void) {
        let savedThreads = ck_get_num_threads()
        defer {
            ck_set_path(Int32(CK_PATH_AUTO.rawValue))
            ck_set_num_threads(savedThreads)
        }
        let paths = [CK_PATH_PORTABLE, CK_PATH_AVX2, CK_PATH_AVX512, CK_PATH_NEON].map { Int32($0.rawValue) }
        for path in paths where ck_path_supported(path) != 0 {
            XCTAssertEqual(ck_set_path(path), 0)
            XCTAssertEqual(ck_active_path(), path)
            for threads: Int32 in [1, 2] {
                ck_set_num_threads(threads)
                body("\(String(cString: ck_path_name(path))) × \(threads) threads")
            }
        }
    }

    func testAwkwardSizesAndTransposes() {
        // 3 × 300 × 37 and 8 × 70 × 45 take the unpacked few-rows path (several column blocks, odd depth).
        let sizes = [
            (1, 1, 1), (7, 7, 7), (1, 129, 63), (129, 1, 7), (63, 129, 65), (129, 63, 33), (13, 40, 1), (3, 300, 37),
            (8, 70, 45),
        ]
        forEachConfiguration { label in
            for (M, N, K) in sizes {
                for transA in [false, true] {
                    for transB in [false, true] {
                        check(Case(M: M, N: N, K: K, transA: transA, transB: transB), label: label)
                    }
                }
            }
        }
    }

    /// Shapes at the edges of the micro-tiles (AVX2 6×16, AVX-512 12×32) and of the packing: panels with 6, 7 or
    /// 8+ valid rows (the AVX2 packing stores 8 lanes over the next k when it can), one row or one column
    /// (1×N, N×1), more panels than one packing group (55 rows, 70 columns), and two depth blocks (K = 385, on
    /// the smaller shapes to keep the double-precision reference quick in debug builds).
    func testTileAndPanelEdges() {
        var cases: [Case] = []
        for (M, N) in [(9, 1), (12, 15), (13, 17), (20, 33), (55, 70), (1, 300), (300, 1)] {
            for K in M * N > 1000 ? [9] : [9, 385] {
                for transA in [false, true] {
                    for transB in [false, true] {
                        cases.append(Case(M: M, N: N, K: K, transA: transA, transB: transB, beta: K == 9 ? 0.5 : 0))
                    }
                }
            }
        }
        forEachConfiguration { label in
            for t in cases { check(t, label: label) }
        }
    }

    func testStridesAlphaBeta() {
        forEachConfiguration { label in
            for beta: Float in [0, 1, 0.5] {
                check(Case(M: 37, N: 70, K: 19, transA: true, alpha: -0.75, beta: beta, padding: 5), label: label)
                check(Case(M: 70, N: 37, K: 19, transB: true, alpha: 2, beta: beta, padding: 3), label: label)
                check(Case(M: 2, N: 40, K: 21, transA: true, alpha: 2, beta: beta, padding: 3), label: label)
                check(Case(M: 6, N: 9, K: 35, transB: true, alpha: -1, beta: beta, padding: 1), label: label)
            }
        }
    }

    /// beta == 0 must overwrite C without reading it: NaN in C must not leak into the result.
    func testBetaZeroIgnoresNaNInC() {
        forEachConfiguration { label in
            check(Case(M: 20, N: 45, K: 9, beta: 0), label: label, cFill: .nan)
            check(Case(M: 20, N: 45, K: 0, beta: 0), label: label, cFill: .nan)
        }
    }

    /// Depths and widths beyond one cache block (several K blocks accumulate; several N blocks), and
    /// more rows than the portable path packs at once.
    func testMultipleBlocks() {
        forEachConfiguration { label in
            check(Case(M: 13, N: 35, K: 1000, beta: 0.5), label: label)
            check(Case(M: 5, N: 1100, K: 9, transB: true), label: label)
            check(Case(M: 300, N: 9, K: 5, transA: true), label: label)
            // Two K blocks of 500 and, on Intel, B blocks cut to half the L2 (ck_plan_columns: three equal blocks).
            check(Case(M: 20, N: 1100, K: 1000, beta: 0.5), label: label)
        }
    }

    /// How the columns are cut into packed B blocks must not change a bit of C: the first 40 columns of a
    /// 1,100-column product (several blocks on Intel hosts) equal the 40-column product of the same operands.
    func testColumnBlocksDoNotChangeBits() {
        let (m, n, k, narrow) = (20, 1100, 1000, 40)
        var random = Generator(state: 7)
        let a = (0..<(m * k)).map { _ in random.next() }, b = (0..<(k * n)).map { _ in random.next() }
        forEachConfiguration { label in
            var wide = [Float](repeating: 0, count: m * n), slice = [Float](repeating: 0, count: m * narrow)
            ck_sgemm(0, 0, Int64(m), Int64(n), Int64(k), 1, a, Int64(k), b, Int64(n), 0, &wide, Int64(n))
            ck_sgemm(0, 0, Int64(m), Int64(narrow), Int64(k), 1, a, Int64(k), b, Int64(n), 0, &slice, Int64(narrow))
            let firstColumns = (0..<m).flatMap { row in wide[(row * n)..<(row * n + narrow)] }
            XCTAssertEqual(firstColumns.map(\.bitPattern), slice.map(\.bitPattern), label)
        }
    }

    /// The few-rows dot-product path (transB) gives each row the bits it has alone: 5 to 8 rows in one pass over B
    /// (AVX-512's own 8-row kernel, AVX2's 4-row one and the generic code) equal the same rows multiplied one at a
    /// time, with a depth tail (K not a multiple of 16), an odd column count, alpha, beta and padded rows.
    func testFewRowsWithTransposedBEqualTheirRowsAlone() {
        for (m, n, k) in [(8, 37, 45), (8, 64, 576), (6, 9, 35), (7, 5, 16), (5, 33, 3), (2, 19, 600), (3, 11, 100), (4, 9, 577),
                          (5, 17, 576)] {
            let (lda, ldb, ldc) = (k + 3, k + 1, n + 2)
            var random = Generator(state: UInt64(m * 1000 + n))
            let a = (0..<(m * lda)).map { _ in random.next() }, b = (0..<(n * ldb)).map { _ in random.next() }
            let c0 = (0..<(m * ldc)).map { _ in random.next() }
            forEachConfiguration { label in
                var together = c0
                ck_sgemm(0, 1, Int64(m), Int64(n), Int64(k), 0.75, a, Int64(lda), b, Int64(ldb), 0.5, &together, Int64(ldc))
                var alone = c0
                for row in 0..<m {
                    a.withUnsafeBufferPointer { a in
                        alone.withUnsafeMutableBufferPointer { c in
                            ck_sgemm(0, 1, 1, Int64(n), Int64(k), 0.75, a.baseAddress! + row * lda, Int64(lda), b, Int64(ldb), 0.5,
                                     c.baseAddress! + row * ldc, Int64(ldc))
                        }
                    }
                }
                let differing = together.indices.filter { together[$0].bitPattern != alone[$0].bitPattern }
                XCTAssertEqual(differing.count, 0, "\(m)×\(n)×\(k), \(label): first differing element \(differing.first ?? -1) of \(together.count)")
            }
        }
    }

    func testEmptyProducts() {
        forEachConfiguration { label in
            // K == 0: C = beta · C.
            check(Case(M: 9, N: 17, K: 0, beta: 0.5), label: label)
            check(Case(M: 9, N: 17, K: 0, beta: 0), label: label)
            // M or N == 0: nothing is written (C's sentinel padding would change otherwise).
            var c = [Float](repeating: 7, count: 16)
            let a = [Float](repeating: 1, count: 16), b = a
            ck_sgemm(0, 0, 0, 4, 4, 1, a, 4, b, 4, 0, &c, 4)
            ck_sgemm(0, 0, 4, 0, 4, 1, a, 4, b, 4, 0, &c, 4)
            XCTAssertEqual(c, [Float](repeating: 7, count: 16), label)
        }
    }

    func testBatched() {
        forEachConfiguration { label in
            check(Case(M: 12, N: 6, K: 16, batch: 12), label: label)
            check(Case(M: 7, N: 33, K: 20, transB: true, beta: 0.5, padding: 2, batch: 3, broadcastA: true), label: label)
            check(Case(M: 31, N: 9, K: 40, transA: true, alpha: 0.5, batch: 5, broadcastB: true), label: label)
            check(Case(M: 65, N: 70, K: 24, batch: 1), label: label)
        }
    }

    /// Same inputs, same bits: twice with two threads, and once more with one thread (K is never split
    /// across threads, so even the thread count does not change the rounding).
    func testDeterministic() {
        let t = Case(M: 100, N: 90, K: 420, transB: true, beta: 0.5)
        forEachConfiguration { label in
            var first = Operands(t, seed: 42), second = Operands(t, seed: 42), serial = Operands(t, seed: 42)
            let saved = ck_get_num_threads()
            ck_set_num_threads(2)
            run(t, &first)
            run(t, &second)
            ck_set_num_threads(1)
            run(t, &serial)
            ck_set_num_threads(saved)
            XCTAssertEqual(first.c.map(\.bitPattern), second.c.map(\.bitPattern), label)
            XCTAssertEqual(first.c.map(\.bitPattern), serial.c.map(\.bitPattern), label)
        }
    }

    /// A ck_sgemm from inside a ck_parallel_for body (the fused attention kernel does this) runs serially
    /// on the calling thread and is still correct.
    func testNestedInParallelRegion() {
        let saved = ck_get_num_threads()
        defer { ck_set_num_threads(saved) }
        let size = 40 * 50, regions = 4
        let a = (0..<(40 * 30)).map { Float($0 % 7) - 3 }, b = (0..<(30 * 50)).map { Float($0 % 5) - 2 }
        var expected = [Float](repeating: 0, count: size)
        ck_set_num_threads(1)
        ck_sgemm(0, 0, 40, 50, 30, 1, a, 30, b, 50, 0, &expected, 50)
        ck_set_num_threads(2)
        // Each region writes its own slice of `results`; the body recomputes A and B (it cannot capture).
        let results = UnsafeMutableBufferPointer<Float>.allocate(capacity: size * regions)
        defer { results.deallocate() }
        results.initialize(repeating: .nan)
        ck_parallel_for(Int64(regions), 1, { raw, begin, end in
            let out = raw!.assumingMemoryBound(to: Float.self)
            let a = (0..<(40 * 30)).map { Float($0 % 7) - 3 }, b = (0..<(30 * 50)).map { Float($0 % 5) - 2 }
            for index in Int(begin)..<Int(end) {
                ck_sgemm(0, 0, 40, 50, 30, 1, a, 30, b, 50, 0, out + index * 40 * 50, 50)
            }
        }, results.baseAddress)
        for region in 0..<regions {
            XCTAssertEqual(Array(results[(region * size)..<((region + 1) * size)]), expected, "region \(region)")
        }
    }

    /// The pool hands every index to exactly one thread, also when a region has fewer
    /// chunks than threads (some workers sit it out) and when the thread count changes between regions.
    func testParallelForCoversEveryIndexOnce() {
        let saved = ck_get_num_threads()
        defer { ck_set_num_threads(saved) }
        let capacity = 64
        let hits = UnsafeMutableBufferPointer<Int32>.allocate(capacity: capacity)
        defer { hits.deallocate() }
        for round in 0..<300 {
            let threads = Int32(1 + round % 4), count = 1 + (round * 7) % capacity
            ck_set_num_threads(threads)
            hits.initialize(repeating: 0)
            ck_parallel_for(Int64(count), 1, { raw, begin, end in
                let hits = raw!.assumingMemoryBound(to: Int32.self)
                for index in Int(begin)..<Int(end) { hits[index] += 1 }
            }, hits.baseAddress)
            let counted = Array(hits[0..<count])
            XCTAssertEqual(counted, [Int32](repeating: 1, count: count), "threads \(threads), count \(count)")
            XCTAssertEqual(hits[count..<capacity].reduce(0, +), 0)
        }
    }
}
