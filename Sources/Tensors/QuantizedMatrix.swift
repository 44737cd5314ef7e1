import CKernels

/// A weight matrix kept in one of ggml's block formats (rows × columns, each row `columns / blockSize` blocks), for
/// inference: ``Tensor/matmul(_:quantized:)`` multiplies it without ever widening it to float32.
///
/// The bytes are ggml's layouts exactly (a GGUF tensor's data, row for row), so a GGUF file's F16/BF16/Q8_0/Q4_0/
/// Q4_1/Q5_0/Q5_1/Q4_K/Q5_K/Q6_K tensors load as they are stored, and ``init(quantizing:format:source:)`` writes what
/// llama.cpp's quantizer writes (every format but the k-quants, which are only kept as a file stores them).
public final class QuantizedMatrix: @unchecked Sendable {  // immutable after init
    /// A block format: ggml's type, with its id in GGUF tensor infos (`enum ggml_type`).
    public enum Format: String, CaseIterable, Sendable {
        case f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1
        case q4_K = "q4_k"
        case q5_K = "q5_k"
        case q6_K = "q6_k"

        /// ggml's type id (GGUF `ggml_type`).
        public var ggmlID: UInt32 {
            switch self {
            case .f16: UInt32(CK_QTYPE_F16.rawValue)
            case .bf16: UInt32(CK_QTYPE_BF16.rawValue)
            case .q8_0: UInt32(CK_QTYPE_Q8_0.rawValue)
            case .q4_0: UInt32(CK_QTYPE_Q4_0.rawValue)
            case .q4_1: UInt32(CK_QTYPE_Q4_1.rawValue)
            case .q5_0: UInt32(CK_QTYPE_Q5_0.rawValue)
            case .q5_1: UInt32(CK_QTYPE_Q5_1.rawValue)
            case .q4_K: UInt32(CK_QTYPE_Q4_K.rawValue)
            case .q5_K: UInt32(CK_QTYPE_Q5_K.rawValue)
            case .q6_K: UInt32(CK_QTYPE_Q6_K.rawValue)
            }
        }

        /// Whether ``QuantizedMatrix/init(quantizing:format:source:)`` can write this format: all but the k-quants
        /// (Q4_K, Q5_K, Q6_K), whose blocks are multiplied as a GGUF file stores them (ggml's k-quant quantizers
        /// search scales iteratively, and nothing here needs them).
        public var hasQuantizer: Bool { ck_q_has_quantizer(Int32(ggmlID)) == 1 }

        /// The format of ggml type id `id`, or nil when these kernels do not multiply it.
        public init?(ggmlID id: UInt32) {
            guard let format = Self.allCases.first(where: { $0.ggmlID == id }) else { return nil }
            self = format
        }

        /// Elements per block (1 for F16 and BF16, 256 for the k-quants' superblocks, 32 for the others).
        public var blockSize: Int { Int(ck_q_block_size(Int32(ggmlID))) }
        /// Bytes per block.
        public var blockBytes: Int { Int(ck_q_block_bytes(Int32(ggmlID))) }
        /// ggml's name ("Q4_1").
        public var ggmlName: String { rawValue.uppercased() }
    }

    public let format: Format
    public let rows: Int
    public let columns: Int
    private let bytes: UnsafeRawBufferPointer
    /// Memory this matrix allocated (freed with it); nil when it reads memory `owner` keeps alive.
    private let allocation: UnsafeMutableRawBufferPointer?
    /// What keeps borrowed bytes alive (a memory-mapped GGUF file).
    private let owner: AnyObject?

    /// Bytes of one row.
    public var rowBytes: Int { columns / format.blockSize * format.blockBytes }
    /// Bytes held.
    public var byteCount: Int { bytes.count }

    /// Checks the shape, then reads `borrowed` when given (which must be the shape's byte count), else allocates.
    private init(format: Format, rows: Int, columns: Int, source: String, borrowed: UnsafeRawBufferPointer? = nil, owner: AnyObject? = nil) throws {
        guard rows > 0, columns > 0 else {
            throw QuantizationError("\(source): a \(format.ggmlName) matrix needs positive sizes, got \(rows) × \(columns)")
        }
        guard columns % format.blockSize == 0 else {
            throw QuantizationError("\(source): \(columns) columns are not whole \(format.ggmlName) blocks of \(format.blockSize); "
                                    + "keep this matrix in float32 (--dtype f32) or choose f16")
        }
        let (rowCount, overflow) = rows.multipliedReportingOverflow(by: columns / format.blockSize * format.blockBytes)
        guard !overflow else { throw QuantizationError("\(source): \(rows) × \(columns) \(format.ggmlName) overflows a byte count") }
        if let borrowed {
            guard borrowed.count == rowCount else {
                throw QuantizationError("\(source): \(borrowed.count) bytes, but \(rows) × \(columns) \(format.ggmlName) takes \(rowCount)")
            }
            bytes = borrowed
            allocation = nil
        } else {
            let allocated = UnsafeMutableRawBufferPointer.allocate(byteCount: rowCount, alignment: 64)
            bytes = UnsafeRawBufferPointer(allocated)
            allocation = allocated
        }
        self.format = format
        self.rows = rows
        self.columns = columns
        self.owner = owner
    }

    /// A copy of `data`, which must hold exactly rows × columns elements of `format` (a GGUF tensor's bytes).
    /// - Parameter source: names the data in errors (file and tensor).
    /// - Throws: ``QuantizationError`` when the sizes are not positive, the columns are not whole blocks, or the byte
    ///   count is not the one the shape implies.
    public convenience init(format: Format, rows: Int, columns: Int, data: UnsafeRawBufferPointer, source: String) throws {
        try self.init(format: format, rows: rows, columns: columns, source: source)
        guard data.count == bytes.count else {
            throw QuantizationError("\(source): \(data.count) bytes, but \(rows) × \(columns) \(format.ggmlName) takes \(bytes.count)")
        }
        allocation?.copyMemory(from: data)
    }

    /// `data` read in place, without a copy: `owner` (a memory-mapped GGUF file) keeps it alive and unchanged for as
    /// long as this matrix lives, so a model's blocks are the file's pages, shared with the page cache.
    /// - Throws: ``QuantizationError`` as ``init(format:rows:columns:data:source:)``.
    public convenience init(format: Format, rows: Int, columns: Int, borrowing data: UnsafeRawBufferPointer, owner: AnyObject,
                            source: String) throws {
        try self.init(format: format, rows: rows, columns: columns, source: source, borrowed: data, owner: owner)
    }

    /// `matrix` (rows, columns) quantized as ggml's reference quantizer does (`quantize_row_*_ref`).
    /// - Throws: ``QuantizationError`` when `matrix` is not a matrix of whole blocks per row, or `format` has no
    ///   quantizer (``Format/hasQuantizer``).
    public convenience init(quantizing matrix: Tensor, format: Format, source: String) throws {
        guard format.hasQuantizer else {
            throw QuantizationError("\(source): Charter keeps \(format.ggmlName) matrices as a GGUF file stores them but cannot "
                                    + "quantize to \(format.ggmlName); choose one of "
                                    + Format.allCases.filter(\.hasQuantizer).map(\.rawValue).joined(separator: ", "))
        }
        guard matrix.rank == 2 else { throw QuantizationError("\(source): only matrices are quantized, shape is \(matrix.shape)") }
        try self.init(format: format, rows: matrix.shape[0], columns: matrix.shape[1], source: source)
        let status = matrix.withUnsafeBufferPointer { x in
            ck_q_quantize(Int32(format.ggmlID), x.baseAddress, Int64(rows), Int64(columns), allocation?.baseAddress)
        }
        precondition(status == 0, "ck_q_quantize refused a checked shape \(rows) × \(columns)")
    }

    deinit { allocation?.deallocate() }

    /// Reads the blocks.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(bytes)
    }

    /// The matrix decoded to float32 (ggml's `dequantize_row_*`), (rows, columns).
    public func dequantized() -> Tensor {
        Tensor.make([rows, columns]) { y in
            precondition(ck_q_dequantize(Int32(format.ggmlID), bytes.baseAddress, Int64(rows), Int64(columns), y) == 0)
        }
    }

    /// Rows `ids` decoded to float32: (shape…, columns), as an embedding lookup (ggml's `get_rows`).
    public func gatheredRows(_ ids: [Int32], indexShape: Shape) -> Tensor {
        precondition(ids.count == indexShape.elementCount, "\(ids.count) ids for index shape \(indexShape)")
        return Tensor.make(indexShape + [columns]) { y in
            for (position, id) in ids.enumerated() {
                precondition(id >= 0 && Int(id) < rows, "row \(id) of a \(rows)-row matrix")
                let row = bytes.baseAddress.map { $0 + Int(id) * rowBytes }
                precondition(ck_q_dequantize(Int32(format.ggmlID), row, 1, Int64(columns), y + position * columns) == 0)
            }
        }
    }

    /// The quantized kernels' variant on the active kernel path ("avx512_vnni", "avx512", "avx2", "portable").
    public static var kernelName: String { String(cString: ck_q_kernel_name()) }
}

/// A matrix that cannot be quantized or loaded as quantized (sizes, block count, byte count).
public struct QuantizationError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension Tensor {
    /// x · Wᵀ for a quantized W (out, in): x (…, in) → (…, out), as `Linear` with that weight. Inference only: the
    /// product is not recorded on the tape, so `x` must not take part in gradient computation.
    public static func matmul(_ x: Tensor, quantized weight: QuantizedMatrix) -> Tensor {
        precondition(x.rank >= 1 && x.shape[x.rank - 1] == weight.columns,
                     "matmul: input \(x.shape) · quantized weight (\(weight.rows), \(weight.columns))ᵀ")
        precondition(!(GradientMode.isEnabled && x.isTracked),
                     "a quantized weight is inference-only: its product has no gradient (load the model in float32 to train)")
        let rows = x.count / weight.columns
        return Tensor.make(Array(x.shape.dropLast()) + [weight.rows]) { y in
            let status = weight.withUnsafeBytes { w in
                ck_qgemm(Int32(weight.format.ggmlID), Int64(rows), Int64(weight.rows), Int64(weight.columns), x.storage.pointer,
                         Int64(weight.columns), w.baseAddress, y, Int64(weight.rows))
            }
            precondition(status == 0, "ck_qgemm refused a checked shape")
        }
    }
}
