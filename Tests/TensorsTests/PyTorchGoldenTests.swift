import Foundation
import XCTest
@testable import Tensors

/// Charter against values computed by PyTorch (Fixtures/make_golden.py, float64 from float32 inputs).
final class PyTorchGoldenTests: XCTestCase {
    private struct Fixture: Decodable {
        struct Case: Decodable { let tensors: [String: Stored] }
        struct Stored: Decodable { let shape: [Int]; let data: [Double] }
        let cases: [String: Case]
    }

    private static let fixture: Fixture = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/golden.json")
        do {
            return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
        } catch {
            fatalError("cannot read \(url.path): \(error)")
        }
    }()

    private func tensors(_ name: String) -> (String) -> Tensor {
        let stored = Self.fixture.cases[name]!.tensors
        return { key in
            guard let value = stored[key] else { fatalError("fixture case \(name) has no tensor \(key)") }
            return Tensor(shape: value.shape, scalars: value.data.map(Float.init))
        }
    }

    /// Relative tolerance 1e-5 of each tensor's largest magnitude (float32 arithmetic vs a float64 reference).
    /// `scale` overrides the magnitude for a value that is a sum with cancellation (Σ out ⊙ R): its float32
    /// rounding error grows with Σ|terms|, not with the (smaller) result.
    private func assertMatches(_ actual: Tensor?, _ expected: Tensor, _ name: String, scale: Float? = nil,
                               file: StaticString = #filePath, line: UInt = #line) {
        guard let actual else { return XCTFail("\(name): no value", file: file, line: line) }
        XCTAssertEqual(actual.shape, expected.shape, name, file: file, line: line)
        let scale = scale ?? max(expected.scalars.map { Swift.abs($0) }.max() ?? 0, 1e-6)
        for (index, (a, e)) in zip(actual.scalars, expected.scalars).enumerated() where Swift.abs(a - e) > 1e-5 * scale {
            return XCTFail("\(name)[\(index)]: \(a) vs PyTorch \(e)", file: file, line: line)
        }
    }

    func testTwoLayerMLP() {
        let t = tensors("mlp")
        let x = t("x"), w1 = t("fc1.weight"), b1 = t("fc1.bias"), w2 = t("fc2.weight"), b2 = t("fc2.bias")
        for p in [x, w1, b1, w2, b2] { p.requiresGrad = true }
        let h = (Tensor.matmul(x, w1, transposeB: true) + b1).gelu(approximate: true)
        let logits = Tensor.matmul(h, w2, transposeB: true) + b2
        let loss = logits.crossEntropy(targets: t("targets").scalars.map { Int32($0) })
        loss.backward()
        assertMatches(logits, t("logits"), "logits")
        assertMatches(loss, t("loss"), "loss")
        for (name, p) in [("x", x), ("fc1.weight", w1), ("fc1.bias", b1), ("fc2.weight", w2), ("fc2.bias", b2)] {
            assertMatches(p.grad, t("grad." + name), "grad." + name)
        }
    }

    func testLlamaAttentionBlock() {
        let t = tensors("attention_block")
        let x = t("x"), g = t("norm.weight"), wq = t("q_proj.weight"), wk = t("k_proj.weight")
        let wv = t("v_proj.weight"), wo = t("o_proj.weight")
        let parameters = [x, g, wq, wk, wv, wo]
        for p in parameters { p.requiresGrad = true }
        let (batch, time, headSize) = (2, 5, 4)
        let cos = t("cos").slice(axis: 1, 0..<2), sin = t("sin").slice(axis: 1, 0..<2)
        let y = x.rmsNorm(weight: g, epsilon: 1e-5)
        func heads(_ projection: Tensor, _ count: Int) -> Tensor {
            Tensor.matmul(y, projection, transposeB: true).reshaped([batch, time, count, headSize]).permuted([0, 2, 1, 3])
        }
        let q = heads(wq, 4).rotaryEmbedding(cos: cos, sin: sin)
        let k = heads(wk, 2).rotaryEmbedding(cos: cos, sin: sin)
        let v = heads(wv, 2)
        let mask = t("mask").scalars.map { UInt8($0) }
        let attention = Tensor.scaledDotProductAttention(query: q, key: k, value: v, causal: true, keyMask: mask)
        let merged = attention.permuted([0, 2, 1, 3]).reshaped([batch, time, 16])
        let out = x + Tensor.matmul(merged, wo, transposeB: true)
        let loss = (out * t("R")).sum()
        loss.backward()
        assertMatches(out, t("out"), "out")
        assertMatches(loss, t("loss"), "loss", scale: (out * t("R")).abs().sum().item)
        for (name, p) in zip(["x", "norm.weight", "q_proj.weight", "k_proj.weight", "v_proj.weight", "o_proj.weight"], parameters) {
            assertMatches(p.grad, t("grad." + name), "grad." + name)
        }
    }

    func testSingleOperations() {
        let t = tensors("ops")
        func check(_ op: String, _ inputNames: [String], _ function: ([Tensor]) -> Tensor) {
            let inputs = inputNames.map { t("\(op).\($0)") }
            for input in inputs { input.requiresGrad = true }
            let out = function(inputs)
            (out * t("\(op).R")).sum().backward()
            assertMatches(out, t("\(op).out"), "\(op).out")
            for (name, input) in zip(inputNames, inputs) where name != "R" {
                assertMatches(input.grad, t("\(op).grad.\(name)"), "\(op).grad.\(name)")
            }
        }
        check("log_softmax", ["x"]) { $0[0].logSoftmax() }
        check("logsumexp", ["x"]) { $0[0].logSumExp() }
        check("layer_norm", ["x", "weight", "bias"]) { $0[0].layerNorm(weight: $0[1], bias: $0[2], epsilon: 1e-5) }
        check("gelu_erf", ["x"]) { $0[0].gelu(approximate: false) }
        check("gelu_tanh", ["x"]) { $0[0].gelu(approximate: true) }
        check("silu", ["x"]) { $0[0].silu() }
        check("broadcast_add", ["a", "b"]) { $0[0] + $0[1] }
        check("broadcast_mul", ["a", "b"]) { $0[0] * $0[1] }
        check("bmm", ["a", "b"]) { Tensor.matmul($0[0], $0[1]) }
        check("bmm_bt", ["a", "b"]) { Tensor.matmul($0[0], $0[1], transposeB: true) }
    }
}
