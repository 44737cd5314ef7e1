import Foundation
import Runtime

/// A read-only safetensors checkpoint, memory-mapped and validated on open.
///
/// ```swift
/// let file = try SafeTensorsFile(url: checkpointURL)
/// for name in file.sortedNames { print(name, try file.info(name).shape) }
/// let embedding = try file.floats("wte.weight")          // converted to Float32
/// try file.withFloats("wte.weight") { buffer in ... }     // zero-copy for aligned F32
/// ```
///
/// Opening validates the whole header (see ``SafeTensorsError``), so accessors never read out of bounds.
/// The type is immutable and safe to share across threads.
public final class SafeTensorsFile: @unchecked Sendable {
    /// The file this checkpoint was read from.
    public let url: URL
    /// The `__metadata__` map (e.g. `["format": "pt"]`); empty when absent.
    public let metadata: [String: String]
    /// Tensor names in the order of their data in the file.
    public let names: [String]
    /// Tensor names sorted lexicographically.
    public var sortedNames: [String] { names.sorted() }

    let storage: MappedFile
    let dataOffset: Int
    let infos: [String: TensorInfo]

    /// Opens and validates a safetensors file.
    /// - Parameter url: A local file URL.
    /// - Throws: ``SafeTensorsError`` when the file is unreadable or its header is malformed.
    public init(url: URL) throws {
        self.url = url
        do {
            storage = try MappedFile(url: url)
        } catch let error as RuntimeError {
            throw SafeTensorsError.unreadable(file: url.path, reason: error.reason)
        }
        let header = try SafeTensorsHeader(bytes: storage.bytes, path: url.path)
        metadata = header.metadata
        dataOffset = header.dataOffset
        var infos: [String: TensorInfo] = [:]
        for (name, info) in header.entries { infos[name] = info }
        self.infos = infos
        names = header.entries.sorted {
            ($0.info.dataRange.lowerBound, $0.info.dataRange.upperBound, $0.name)
                < ($1.info.dataRange.lowerBound, $1.info.dataRange.upperBound, $1.name)
        }.map(\.name)
    }

    /// Whether the file contains a tensor called `name`.
    public func contains(_ name: String) -> Bool { infos[name] != nil }

    /// The dtype, shape and byte range of tensor `name`.
    /// - Throws: ``SafeTensorsError/tensorNotFound(file:tensor:)``.
    public func info(_ name: String) throws -> TensorInfo {
        guard let info = infos[name] else { throw SafeTensorsError.tensorNotFound(file: url.path, tensor: name) }
        return info
    }

    /// Calls `body` with the tensor's raw little-endian bytes, without copying.
    ///
    /// The buffer points into the mapped file and must not escape `body`. It may be unaligned for the dtype.
    /// - Throws: ``SafeTensorsError/tensorNotFound(file:tensor:)``, or whatever `body` throws.
    public func withRawBytes<Result>(
        _ name: String, _ body: (UnsafeRawBufferPointer) throws -> Result
    ) throws -> Result {
        let info = try info(name)
        let start = dataOffset + info.dataRange.lowerBound
        return try body(UnsafeRawBufferPointer(rebasing: storage.bytes[start..<(start + info.dataRange.count)]))
    }

    /// A copy of the tensor's raw little-endian bytes.
    public func data(_ name: String) throws -> Data {
        try withRawBytes(name) { Data($0) }
    }
}
