/// The element types a safetensors header may declare (the `dtype` field).
///
/// The raw values are the exact strings of the safetensors format. F8 types are recognised so that a checkpoint
/// containing them still opens, but converting them to `Float` throws ``SafeTensorsError/unsupportedDType(file:tensor:dtype:)``.
public enum SafeTensorsDType: String, Sendable, CaseIterable {
    case float64 = "F64"
    case float32 = "F32"
    case float16 = "F16"
    case bfloat16 = "BF16"
    case int64 = "I64"
    case int32 = "I32"
    case int16 = "I16"
    case int8 = "I8"
    case uint64 = "U64"
    case uint32 = "U32"
    case uint16 = "U16"
    case uint8 = "U8"
    case bool = "BOOL"
    case float8E4M3 = "F8_E4M3"
    case float8E5M2 = "F8_E5M2"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .float64, .int64, .uint64: return 8
        case .float32, .int32, .uint32: return 4
        case .float16, .bfloat16, .int16, .uint16: return 2
        case .int8, .uint8, .bool, .float8E4M3, .float8E5M2: return 1
        }
    }

    /// Whether the elements are floating-point numbers (F64, F32, F16, BF16, F8): the only dtypes whose values are
    /// model weights. Integer and BOOL tensors hold indices, masks or packed quantized weights.
    public var isFloatingPoint: Bool {
        switch self {
        case .float64, .float32, .float16, .bfloat16, .float8E4M3, .float8E5M2: return true
        default: return false
        }
    }

    /// Whether ``SafeTensorsFile/floats(_:)`` can convert this dtype to `Float`.
    public var isConvertibleToFloat: Bool {
        switch self {
        case .float8E4M3, .float8E5M2: return false
        default: return true
        }
    }
}
