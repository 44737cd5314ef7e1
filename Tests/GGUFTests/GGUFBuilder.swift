import Foundation

/// Writes GGUF bytes field by field, so tests can build valid files and hostile ones (any count, type id or
/// offset) without the `gguf` package.
struct GGUFBuilder {
    struct Tensor {
        var name: String
        var dimensions: [UInt64]
        var typeID: UInt32
        var data: Data
        var offset: UInt64? = nil
        init(name: String, dimensions: [UInt64], typeID: UInt32, data: Data, offset: UInt64? = nil) {
            self.name = name
            self.dimensions = dimensions
            self.typeID = typeID
            self.data = data
            self.offset = offset
        }
    }

    /// Metadata as raw (key, type id, value bytes).
    var metadata: [(key: String, type: UInt32, value: Data)] = []
    var tensors: [Tensor] = []
    var version: UInt32 = 3
    var alignment = 32

    static func le<T: FixedWidthInteger>(_ value: T) -> Data { withUnsafeBytes(of: value.littleEndian) { Data($0) } }
    static func string(_ text: String) -> Data { le(UInt64(text.utf8.count)) + Data(text.utf8) }

    var data: Data {
        var bytes = Data("GGUF".utf8) + Self.le(version) + Self.le(UInt64(tensors.count)) + Self.le(UInt64(metadata.count))
        for entry in metadata { bytes += Self.string(entry.key) + Self.le(entry.type) + entry.value }
        var offset: UInt64 = 0
        var placed: [UInt64] = []
        for tensor in tensors {
            let position = tensor.offset ?? offset
            placed.append(position)
            bytes += Self.string(tensor.name) + Self.le(UInt32(tensor.dimensions.count))
            for dimension in tensor.dimensions { bytes += Self.le(dimension) }
            bytes += Self.le(tensor.typeID) + Self.le(position)
            offset = (position &+ UInt64(tensor.data.count) &+ UInt64(alignment) - 1) / UInt64(alignment) &* UInt64(alignment)
        }
        bytes += Data(count: (alignment - bytes.count % alignment) % alignment)
        let start = bytes.count
        for (tensor, position) in zip(tensors, placed) where tensor.offset == nil {
            bytes += Data(count: start + Int(position) - bytes.count)
            bytes += tensor.data
        }
        return bytes
    }
}
