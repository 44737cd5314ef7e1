import CKernels
import XCTest

/// ck_sgemm_bf16 / ck_sgemm_batched_bf16 against a reference that rounds every operand to bf16 (ck_round_bf16,
/// itself checked against PyTorch in MatmulPrecisionTests) and sums in double, on every path the CPU supports
/// (VDPBF16PS on avx512 where the CPU has AVX512-BF16, the converted-operand path elsewhere) with 1 and 2 threads.
/// The tolerance is that of the float GEMM: far below what an unrounded operand, a wrong pair interleave or a
/// dropped odd k would cost (a relative 2^-9 per product), which testOperandsAreRounded checks directly.
final class BF16GEMMTests: XCTestCase {
    typealias Case = GEMMTests.Case
    typealias Operands = GEMMTests.Operands

    func check(_ t: Case, label: String, cFill: Float? = nil, file: StaticString = #filePath, line: UInt = #line) {
        GEMMTests.check(t, label: label, cFill: cFill, product: .bf16, file: file, line: line)
    }

    func run(_ t: Case, _ x: inout Operands) { GEMMTests.run(t, &x, product: .bf16) }

    /// Every path the CPU supports (named by where its bf16 products run), with 1 and 2 threads.
    func forEachConfiguration(_ body: (String) -> Void) {
        let savedThreads = ck_get_num_threads()
        defer {
            ck_set_path(Int32(CK_PATH_AUTO.rawValue))
            ck_set_num_threads(savedThreads)
        }
        let paths = [CK_PATH_PORTABLE, CK_PATH_AVX2, CK_PATH_AVX512, CK_PATH_NEON].map { Int32($0.rawValue) }
        for path in paths where ck_path_supported(path) != 0 {
            XCTAssertEqual(ck_set_path(path), 0)
            for threads: Int32 in [1, 2] {
                ck_set_num_threads(threads)
                body("\(String(cString: ck_bf16_path_name())) × \(threads) threads")
            }
        }
    }

    func testNativePathWhereTheCPUHasIt() {
        defer { ck_set_path(Int32(CK_PATH_AUTO.rawValue)) }
        guard ck_path_supported(Int32(CK_PATH_AVX512.rawValue)) != 0 else { return }
        ck_set_path(Int32(CK_PATH_AVX512.rawValue))
        XCTAssertEqual(String(cString: ck_bf16_path_name()), ck_bf16_supported() != 0 ? "avx512bf16" : "avx512+convert")
        ck_set_path(Int32(CK_PATH_PORTABLE.rawValue))
        XCTAssertEqual(String(cString: ck_bf16_path_name()), "portable+convert")
    }

    /// A = 1 + 2^-10 rounds to 1 in bf16, B = 1 is exact: the product sums to exactly K, where fp32 operands
    /// would give K·(1 + 2^-10). And an odd K (the last pair half padding) is counted in full.
    func testOperandsAreRounded() {
        forEachConfiguration { label in
            for (M, N, K) in [(1, 1, 1), (13, 33, 7), (24, 64, 65)] {
                let a = [Float](repeating: 1 + 1.0 / 1024, count: M * K), b = [Float](repeating: 1, count: K * N)
                var c = [Float](repeating: .nan, count: M * N)
                ck_sgemm_bf16(0, 0, Int64(M), Int64(N), Int64(K), 1, a, Int64(K), b, Int64(N), 0, &c, Int64(N))
                XCTAssertEqual(c, [Float](repeating: Float(K), count: M * N), "\(label) \(M)×\(N)×\(K)")
            }
        }
    }

    func testAwkwardSizesAndTransposes() {
        let sizes = [(1, 1, 1), (7, 7, 7), (1, 129, 63), (129, 1, 7), (63, 129, 65), (3, 300, 37), (8, 70, 45)]
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

    /// Edges of the 12×32 micro-tile and of the pair packing: 1, 12, 13, 33 rows or columns; K below one pair
    /// group, odd K (a padded last pair), K of one and more 32-k transposes (33, 64, 97), and K = 1537, three
    /// depth blocks whose last one has an odd depth.
    func testTileAndPanelEdges() {
        var cases: [Case] = []
        for (M, N) in [(9, 1), (12, 15), (13, 17), (20, 33), (1, 300), (300, 1)] {
            for K in [1, 2, 33, 64, 97] {
                for transA in [false, true] {
                    for transB in [false, true] {
                        cases.append(Case(M: M, N: N, K: K, transA: transA, transB: transB, beta: K == 33 ? 0.5 : 0))
                    }
                }
            }
        }
        cases.append(Case(M: 13, N: 35, K: 1537, beta: 0.5))
        cases.append(Case(M: 13, N: 35, K: 1537, transA: true, transB: true))
        forEachConfiguration { label in
            for t in cases { check(t, label: label) }
        }
    }

    func testStridesAlphaBetaAndNaNInC() {
        forEachConfiguration { label in
            for beta: Float in [0, 1, 0.5] {
                check(Case(M: 37, N: 70, K: 19, transA: true, alpha: -0.75, beta: beta, padding: 5), label: label)
                check(Case(M: 70, N: 37, K: 40, transB: true, alpha: 2, beta: beta, padding: 3), label: label)
            }
            check(Case(M: 20, N: 45, K: 9, beta: 0), label: label, cFill: .nan)
            check(Case(M: 20, N: 45, K: 0, beta: 0.5), label: label)
        }
    }

    func testBatched() {
        forEachConfiguration { label in
            check(Case(M: 12, N: 6, K: 16, batch: 12), label: label)
            check(Case(M: 7, N: 33, K: 20, transB: true, beta: 0.5, padding: 2, batch: 3, broadcastA: true), label: label)
            check(Case(M: 31, N: 9, K: 41, transA: true, alpha: 0.5, batch: 5, broadcastB: true), label: label)
        }
    }

    /// Same inputs, same bits with two threads (twice) and with one.
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
}
