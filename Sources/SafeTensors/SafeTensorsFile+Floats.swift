import Foundation

extension SafeTensorsFile {
    /// The tensor's elements converted to `Float`, row-major.
    ///
    /// F32 is copied, F16/BF16/F64 are converted (F64 rounds to nearest), integer and BOOL elements become their
    /// numeric value (large 64-bit integers round). The mapped pages of the tensor are then released from the
    /// resident set (``MappedFile/releasePages(_:)``), so a loader holds each tensor once.
    /// - Throws: ``SafeTensorsError/tensorNotFound(file:tensor:)`` or ``SafeTensorsError/unsupportedDType(file:tensor:dtype:)`` for F8 types.
    public func floats(_ name: String) throws -> [Float] {
        let info = try info(name)
        guard info.dtype.isConvertibleToFloat else {
            throw SafeTensorsError.unsupportedDType(file: url.path, tensor: name, dtype: info.dtype.rawValue)
        }
        let values = try withRawBytes(name) { raw in
            [Float](unsafeUninitializedCapacity: info.elementCount) { buffer, initialized in
                Self.convert(raw, dtype: info.dtype, into: buffer)
                initialized = info.elementCount
            }
        }
        // The copy is what the caller keeps: the mapped pages it came from need not stay resident beside it.
        storage.releasePages((dataOffset + info.dataRange.lowerBound)..<(dataOffset + info.dataRange.upperBound))
        return values
    }

    /// The values of a model weight as `Float`s: like ``floats(_:)``, but integer and BOOL tensors are refused
    /// rather than converted. An integer tensor where a weight belongs is a quantized checkpoint's packed values
    /// (GPTQ's `qweight` holds eight 4-bit numbers per I32) or a wrong file; its numeric value is not the weight.
    /// - Throws: ``SafeTensorsError/notFloatingPoint(file:tensor:dtype:)``, or the errors of ``floats(_:)``.
    public func weights(_ name: String) throws -> [Float] {
        let info = try info(name)
        guard info.dtype.isFloatingPoint else {
            throw SafeTensorsError.notFloatingPoint(file: url.path, tensor: name, dtype: info.dtype.rawValue)
        }
        return try floats(name)
    }

    /// Calls `body` with the tensor as `Float`s, without copying when the tensor is F32 and 4-byte aligned
    /// in the mapping (the usual case: safetensors pads the header to 8 bytes); otherwise converts first.
    ///
    /// The buffer must not escape `body`.
    /// - Throws: the errors of ``floats(_:)``, or whatever `body` throws.
    public func withFloats<Result>(
        _ name: String, _ body: (UnsafeBufferPointer<Float>) throws -> Result
    ) throws -> Result {
        let info = try info(name)
        #if _endian(little)
        if info.dtype == .float32 {
            let direct: Result? = try withRawBytes(name) { raw in
                guard let base = raw.baseAddress, Int(bitPattern: base) % MemoryLayout<Float>.alignment == 0 else {
                    return nil
                }
                // The mapped bytes are never bound to another type, so viewing them as Float is sound.
                return try body(UnsafeBufferPointer(start: base.assumingMemoryBound(to: Float.self), count: info.elementCount))
            }
            if let direct { return direct }
        }
        #endif
        let values = try floats(name)
        return try values.withUnsafeBufferPointer(body)
    }

    /// Converts `raw` little-endian elements of `dtype` into `output` (which holds exactly the element count).
    static func convert(_ raw: UnsafeRawBufferPointer, dtype: SafeTensorsDType, into output: UnsafeMutableBufferPointer<Float>) {
        let count = output.count
        guard count > 0, let source = raw.baseAddress, let destination = output.baseAddress else { return }
        #if _endian(little)
        // Fast paths: plain copies and widening loops over typed pointers, which the compiler vectorises.
        // The untyped loops below handle unaligned data (possible when a writer did not pad the header).
        let aligned = Int(bitPattern: source) % 4 == 0
        if dtype == .float32 {
            UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: count * 4)
            return
        }
        if aligned && (dtype == .bfloat16 || dtype == .float16) {
            let halves = source.assumingMemoryBound(to: UInt16.self)
            if dtype == .bfloat16 {
                for index in 0..<count { destination[index] = HalfPrecision.float(fromBFloat16: halves[index]) }
            } else {
                for index in 0..<count { destination[index] = HalfPrecision.float(fromFloat16: halves[index]) }
            }
            return
        }
        #endif
        switch dtype {
        case .float32:
            for index in 0..<count {
                output[index] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self)))
            }
        case .float16:
            for index in 0..<count {
                output[index] = HalfPrecision.float(
                    fromFloat16: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self)))
            }
        case .bfloat16:
            for index in 0..<count {
                output[index] = HalfPrecision.float(
                    fromBFloat16: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self)))
            }
        case .float64:
            for index in 0..<count {
                output[index] = Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self))))
            }
        case .int64:
            for index in 0..<count { output[index] = Float(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: index * 8, as: Int64.self))) }
        case .int32:
            for index in 0..<count { output[index] = Float(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: index * 4, as: Int32.self))) }
        case .int16:
            for index in 0..<count { output[index] = Float(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: index * 2, as: Int16.self))) }
        case .int8:
            for index in 0..<count { output[index] = Float(Int8(bitPattern: raw[index])) }
        case .uint64:
            for index in 0..<count { output[index] = Float(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self))) }
        case .uint32:
            for index in 0..<count { output[index] = Float(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self))) }
        case .uint16:
            for index in 0..<count { output[index] = Float(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self))) }
        case .uint8:
            for index in 0..<count { output[index] = Float(raw[index]) }
        case .bool:
            for index in 0..<count { output[index] = raw[index] == 0 ? 0 : 1 }
        case .float8E4M3, .float8E5M2:
            preconditionFailure("F8 conversion is rejected before convert(_:dtype:into:)")
        }
    }
}
