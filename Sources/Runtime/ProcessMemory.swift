import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// This process's memory as the operating system counts it: the peak resident set (what `/usr/bin/time -v` calls
/// "Maximum resident set size") and the machine's physical memory, for end-of-run summaries and memory estimates;
/// and its CPU time.
public enum ProcessMemory {
    /// The largest resident set size this process has had, in bytes (`getrusage`'s `ru_maxrss`: kilobytes on Linux,
    /// bytes on macOS), or nil when the system does not say.
    public static var peakResidentBytes: Int? {
        var usage = rusage()
        #if canImport(Darwin)
        guard getrusage(RUSAGE_SELF, &usage) == 0, usage.ru_maxrss > 0 else { return nil }
        return Int(usage.ru_maxrss)
        #else
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0, usage.ru_maxrss > 0 else { return nil }
        return Int(usage.ru_maxrss) * 1024
        #endif
    }

    /// User + system CPU seconds of this process so far, all threads (`getrusage`): what other processes on a shared
    /// machine disturb far less than wall time.
    public static var cpuSeconds: Double {
        var usage = rusage()
        #if canImport(Darwin)
        getrusage(RUSAGE_SELF, &usage)
        #else
        getrusage(RUSAGE_SELF.rawValue, &usage)
        #endif
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// The machine's physical memory in bytes.
    public static var physicalBytes: Int { Int(ProcessInfo.processInfo.physicalMemory) }

    /// `3.42 GB` (decimal gigabytes, as `free -g` and TRL's logs print them).
    public static func gigabytes(_ bytes: Int) -> String { String(format: "%.2f GB", Double(bytes) / 1e9) }
}
