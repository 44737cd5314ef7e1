/// The dtype and shape of one tensor, as declared in the header.
public struct TensorInfo: Sendable, Equatable {
    /// Element type.
    public let dtype: SafeTensorsDType
    /// Dimensions, outermost first; `[]` is a scalar.
    public let shape: [Int]
    /// Byte range of the tensor's data, relative to the start of the data section.
    public let dataRange: Range<Int>

    /// Number of elements (the product of `shape`; 1 for a scalar).
    public var elementCount: Int { dataRange.count / dtype.size }

    /// Memberwise initialiser.
    public init(dtype: SafeTensorsDType, shape: [Int], dataRange: Range<Int>) {
        self.dtype = dtype
        self.shape = shape
        self.dataRange = dataRange
    }
}
