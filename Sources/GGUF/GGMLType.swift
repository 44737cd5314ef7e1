/// A ggml tensor type: its id in GGUF tensor infos, and how many elements a block holds in how many bytes
/// (ggml's `ggml_type_traits`: `blck_size`, `type_size`).
public struct GGMLType: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// The id stored in a GGUF tensor info (`enum ggml_type`).
    public let id: UInt32
    /// ggml's name (`Q4_K`).
    public let name: String
    /// Elements per block (1 for float types, 32 for the legacy quants, 256 for the k-quants).
    public let blockSize: Int
    /// Bytes per block.
    public let blockBytes: Int

    public var description: String { name }

    public static let f32 = GGMLType(id: 0, name: "F32", blockSize: 1, blockBytes: 4)
    public static let f16 = GGMLType(id: 1, name: "F16", blockSize: 1, blockBytes: 2)
    /// d (f16), 16 bytes of 4-bit quants: x = d·(q − 8).
    public static let q4_0 = GGMLType(id: 2, name: "Q4_0", blockSize: 32, blockBytes: 18)
    /// d, m (f16), 16 bytes of 4-bit quants: x = d·q + m.
    public static let q4_1 = GGMLType(id: 3, name: "Q4_1", blockSize: 32, blockBytes: 20)
    /// d (f16), 4 bytes of fifth bits, 16 bytes of low nibbles: x = d·(q − 16).
    public static let q5_0 = GGMLType(id: 6, name: "Q5_0", blockSize: 32, blockBytes: 22)
    /// d, m (f16), 4 bytes of fifth bits, 16 bytes of low nibbles: x = d·q + m.
    public static let q5_1 = GGMLType(id: 7, name: "Q5_1", blockSize: 32, blockBytes: 24)
    /// d (f16), 32 signed bytes: x = q·d.
    public static let q8_0 = GGMLType(id: 8, name: "Q8_0", blockSize: 32, blockBytes: 34)
    /// d, dmin (f16), 12 bytes of 6-bit scales and mins for 8 sub-blocks of 32, 128 bytes of 4-bit quants.
    public static let q4_K = GGMLType(id: 12, name: "Q4_K", blockSize: 256, blockBytes: 144)
    /// As Q4_K plus 32 bytes holding each quant's fifth bit.
    public static let q5_K = GGMLType(id: 13, name: "Q5_K", blockSize: 256, blockBytes: 176)
    /// 128 bytes of low nibbles, 64 bytes of high 2 bits, 16 signed 8-bit scales (sub-blocks of 16), d (f16).
    public static let q6_K = GGMLType(id: 14, name: "Q6_K", blockSize: 256, blockBytes: 210)
    public static let bf16 = GGMLType(id: 30, name: "BF16", blockSize: 1, blockBytes: 2)

    /// The types Charter dequantises.
    public static let supported: [GGMLType] = [.f32, .f16, .bf16, .q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q4_K, .q5_K, .q6_K]

    /// Types whose layout is known (so a file holding them parses) but that have no dequantiser here, from ggml.h.
    static let layoutOnly: [GGMLType] = [
        GGMLType(id: 9, name: "Q8_1", blockSize: 32, blockBytes: 36), GGMLType(id: 10, name: "Q2_K", blockSize: 256, blockBytes: 84),
        GGMLType(id: 11, name: "Q3_K", blockSize: 256, blockBytes: 110), GGMLType(id: 15, name: "Q8_K", blockSize: 256, blockBytes: 292),
        GGMLType(id: 16, name: "IQ2_XXS", blockSize: 256, blockBytes: 66), GGMLType(id: 17, name: "IQ2_XS", blockSize: 256, blockBytes: 74),
        GGMLType(id: 18, name: "IQ3_XXS", blockSize: 256, blockBytes: 98), GGMLType(id: 19, name: "IQ1_S", blockSize: 256, blockBytes: 50),
        GGMLType(id: 20, name: "IQ4_NL", blockSize: 32, blockBytes: 18), GGMLType(id: 21, name: "IQ3_S", blockSize: 256, blockBytes: 110),
        GGMLType(id: 22, name: "IQ2_S", blockSize: 256, blockBytes: 82), GGMLType(id: 23, name: "IQ4_XS", blockSize: 256, blockBytes: 136),
        GGMLType(id: 24, name: "I8", blockSize: 1, blockBytes: 1), GGMLType(id: 25, name: "I16", blockSize: 1, blockBytes: 2),
        GGMLType(id: 26, name: "I32", blockSize: 1, blockBytes: 4), GGMLType(id: 27, name: "I64", blockSize: 1, blockBytes: 8),
        GGMLType(id: 28, name: "F64", blockSize: 1, blockBytes: 8), GGMLType(id: 29, name: "IQ1_M", blockSize: 256, blockBytes: 56),
        GGMLType(id: 34, name: "TQ1_0", blockSize: 256, blockBytes: 54), GGMLType(id: 35, name: "TQ2_0", blockSize: 256, blockBytes: 66),
    ]

    /// The type with GGUF id `id`, or nil for an id ggml does not define.
    public static func withID(_ id: UInt32) -> GGMLType? {
        supported.first { $0.id == id } ?? layoutOnly.first { $0.id == id }
    }

    /// Whether Charter dequantises this type.
    public var isSupported: Bool { Self.supported.contains(self) }
}
