import XCTest
@testable import Tensors

/// Each fused operation against its composition from primitives (values and gradients), plus a
/// finite-difference check of its own gradient rule.
final class FusedOperationTests: XCTestCase {
    /// Compares values and input gradients of two functions of the same inputs.
    private func assertSameFunction(_ inputs: [Tensor], tolerance: Float = 1e-4,
                                    file: StaticString = #filePath, line: UInt = #line,
                                    _ fused: ([Tensor]) -> Tensor, _ reference: ([Tensor]) -> Tensor) {
        func run(_ function: ([Tensor]) -> Tensor) -> (Tensor, [Tensor]) {
            let copies = inputs.map { input -> Tensor in let copy = input.copied(); copy.requiresGrad = true; return copy }
            let output = function(copies)
            let weights = randomTensor(output.shape, seed: 1234)
            (output * weights).sum().backward()
            return (output.detached(), copies.map { $0.grad ?? Tensor.zeros($0.shape) })
        }
        let (fusedOutput, fusedGradients) = run(fused)
        let (referenceOutput, referenceGradients) = run(reference)
        assertClose(fusedOutput, referenceOutput, tolerance: tolerance, "output", file: file, line: line)
        for (index, (a, b)) in zip(fusedGradients, referenceGradients).enumerated() {
            assertClose(a, b, tolerance: tolerance, "gradient of input \(index)", file: file, line: line)
        }
    }

    func testCrossEntropyWithIgnoredRows() {
        let logits = randomTensor([2, 3, 7], seed: 20, scale: 2)
        let targets: [Int32] = [3, -100, 6, 0, 2, -100]
        var oneHot = [Float](repeating: 0, count: 42)
        for (row, target) in targets.enumerated() where target >= 0 { oneHot[row * 7 + Int(target)] = 1 }
        let mask = Tensor(shape: [2, 3, 7], scalars: oneHot)
        assertSameFunction([logits], { $0[0].crossEntropy(targets: targets) },
                           { -($0[0].logSoftmax() * mask).sum() / 4 })
        assertSameFunction([logits], { $0[0].crossEntropy(targets: targets, reduction: .sum) },
                           { -($0[0].logSoftmax() * mask).sum() })
        checkGradients([logits]) { $0[0].crossEntropy(targets: targets) }
        // Every row ignored: the loss is 0 and the gradient too (no division by zero).
        let allIgnored = logits.crossEntropy(targets: [Int32](repeating: -100, count: 6))
        XCTAssertEqual(allIgnored.item, 0)
    }

    func testTargetLogProbabilitiesAgainstComposition() {
        let logits = randomTensor([2, 3, 5], seed: 40, scale: 2)
        let targets: [Int32] = [4, 0, -100, 2, 2, 1]
        var oneHot = [Float](repeating: 0, count: 30)
        for (row, target) in targets.enumerated() where target >= 0 { oneHot[row * 5 + Int(target)] = 1 }
        let mask = Tensor(shape: [2, 3, 5], scalars: oneHot)
        assertSameFunction([logits], { $0[0].targetLogProbabilities(targets) }, { ($0[0].logSoftmax() * mask).sum(axis: -1) })
        checkGradients([logits]) { $0[0].targetLogProbabilities(targets) }
    }

    func testLayerNormAgainstComposition() {
        let x = randomTensor([3, 2, 9], seed: 21, scale: 1.5, offset: 0.3)
        let weight = randomTensor([9], seed: 22, offset: 1), bias = randomTensor([9], seed: 23)
        func reference(_ t: [Tensor]) -> Tensor {
            let mean = t[0].mean(axis: -1, keepDimensions: true)
            let centered = t[0] - mean
            let variance = centered.squared().mean(axis: -1, keepDimensions: true)
            return centered / (variance + 1e-5).sqrt() * t[1] + t[2]
        }
        assertSameFunction([x, weight, bias], { $0[0].layerNorm(weight: $0[1], bias: $0[2]) }, reference)
        checkGradients([x, weight, bias]) { $0[0].layerNorm(weight: $0[1], bias: $0[2]) }
        checkGradients([x]) { $0[0].layerNorm(weight: nil, bias: nil) }
    }

    func testRMSNormAgainstComposition() {
        let x = randomTensor([4, 7], seed: 24, offset: 0.2), weight = randomTensor([7], seed: 25, offset: 1)
        assertSameFunction([x, weight], { $0[0].rmsNorm(weight: $0[1], epsilon: 1e-5) },
                           { $0[0] / ($0[0].squared().mean(axis: -1, keepDimensions: true) + 1e-5).sqrt() * $0[1] })
        checkGradients([x, weight]) { $0[0].rmsNorm(weight: $0[1], epsilon: 1e-5) }
    }

    func testSwiGLUAgainstComposition() {
        let gate = randomTensor([3, 5], seed: 26), up = randomTensor([3, 5], seed: 27)
        assertSameFunction([gate, up], { $0[0].swiGLU($0[1]) }, { $0[0].silu() * $0[1] })
        checkGradients([gate, up]) { $0[0].swiGLU($0[1]) }
    }

    /// The rotate-half formulation written out: x·cos + rotate_half(x)·sin with the tables repeated twice.
    private func rotaryReference(_ x: Tensor, cos: Tensor, sin: Tensor) -> Tensor {
        let half = x.shape[3] / 2
        let first = x.slice(axis: 3, 0..<half), second = x.slice(axis: 3, half..<(2 * half))
        let rotated = Tensor.concatenate([-second, first], axis: 3)
        let cosFull = Tensor.concatenate([cos, cos], axis: -1), sinFull = Tensor.concatenate([sin, sin], axis: -1)
        if cos.rank == 3 { return x * cosFull.unsqueezed(1) + rotated * sinFull.unsqueezed(1) }
        return x * cosFull + rotated * sinFull
    }

    func testRotaryEmbeddingAgainstComposition() {
        let x = randomTensor([2, 3, 5, 6], seed: 28)
        var cosValues: [Float] = [], sinValues: [Float] = []
        for position in 0..<5 {
            for i in 0..<3 {
                let angle = Float(position) * Foundation.pow(10000, -Float(2 * i) / 6)
                cosValues.append(Foundation.cos(angle)); sinValues.append(Foundation.sin(angle))
            }
        }
        let cos = Tensor(shape: [5, 3], scalars: cosValues), sin = Tensor(shape: [5, 3], scalars: sinValues)
        assertSameFunction([x], { $0[0].rotaryEmbedding(cos: cos, sin: sin) }, { self.rotaryReference($0[0], cos: cos, sin: sin) })
        checkGradients([x]) { $0[0].rotaryEmbedding(cos: cos, sin: sin) }
        // Per-sequence tables (left-padded batches): sequence 1 starts two positions later.
        let shiftedCos = Tensor.concatenate([cos.unsqueezed(0), Tensor.concatenate([cos.slice(axis: 0, 2..<5), cos.slice(axis: 0, 0..<2)], axis: 0).unsqueezed(0)], axis: 0)
        let shiftedSin = Tensor.concatenate([sin.unsqueezed(0), Tensor.concatenate([sin.slice(axis: 0, 2..<5), sin.slice(axis: 0, 0..<2)], axis: 0).unsqueezed(0)], axis: 0)
        assertSameFunction([x], { $0[0].rotaryEmbedding(cos: shiftedCos, sin: shiftedSin) },
                           { self.rotaryReference($0[0], cos: shiftedCos, sin: shiftedSin) })
    }

    /// Attention written with primitives: explicit scores, masks and softmax; kv heads repeated per group.
    private func attentionReference(_ q: Tensor, _ k: Tensor, _ v: Tensor, causal: Bool, keyMask: [UInt8]?) -> Tensor {
        let (batch, queryHeads, time, headSize) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3])
        let (keyHeads, keyTime) = (k.shape[1], k.shape[2])
        let group = queryHeads / keyHeads
        func repeatHeads(_ t: Tensor) -> Tensor {
            t.unsqueezed(2).expanded(to: [batch, keyHeads, group, keyTime, headSize]).reshaped([batch, queryHeads, keyTime, headSize])
        }
        var scores = Tensor.matmul(q, repeatHeads(k), transposeB: true) * (1 / Float(headSize).squareRoot())
        var blocked = [Float](repeating: 0, count: batch * time * keyTime)
        for b in 0..<batch {
            for t in 0..<time {
                for s in 0..<keyTime where (causal && s > t + keyTime - time) || (keyMask.map { $0[b * keyTime + s] == 0 } ?? false) {
                    blocked[(b * time + t) * keyTime + s] = 1
                }
            }
        }
        scores = scores.maskedFill(Tensor(shape: [batch, 1, time, keyTime], scalars: blocked), with: -1e9)
        return Tensor.matmul(scores.softmax(), repeatHeads(v))
    }

    func testAttentionAgainstComposition() {
        for (queryHeads, keyHeads) in [(2, 2), (4, 2), (4, 1)] {
            for (time, keyTime) in [(5, 5), (3, 6)] {
                let q = randomTensor([2, queryHeads, time, 4], seed: 30), k = randomTensor([2, keyHeads, keyTime, 4], seed: 31)
                let v = randomTensor([2, keyHeads, keyTime, 4], seed: 32)
                var mask = [UInt8](repeating: 1, count: 2 * keyTime)
                mask[2 * keyTime - 1] = 0  // sequence 1's last key is padding
                for causal in [true, false] {
                    assertSameFunction([q, k, v], {
                        Tensor.scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], causal: causal, keyMask: mask)
                    }, { self.attentionReference($0[0], $0[1], $0[2], causal: causal, keyMask: mask) })
                }
                checkGradients([q, k, v]) {
                    Tensor.scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], causal: true, keyMask: mask)
                }
            }
        }
    }

    func testAttentionRowWithNothingToAttendIsZero() {
        // Left padding: sequence 0's first key is padding, so its first query (causal) sees no key at all.
        let q = randomTensor([1, 2, 3, 4], seed: 33), k = randomTensor([1, 2, 3, 4], seed: 34), v = randomTensor([1, 2, 3, 4], seed: 35)
        for t in [q, k, v] { t.requiresGrad = true }
        let out = Tensor.scaledDotProductAttention(query: q, key: k, value: v, causal: true, keyMask: [0, 1, 1])
        XCTAssertEqual(out.slice(axis: 2, 0..<1).scalars, [Float](repeating: 0, count: 8))
        out.sum().backward()
        for t in [q, k, v] { XCTAssertTrue(t.grad!.scalars.allSatisfy(\.isFinite)) }
    }
}
