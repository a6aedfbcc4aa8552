import Foundation

/// Plain file descriptor I/O, where a `FileHandle` and its `Data` copies cost more than the
/// work itself (a step's script, a session's message: once per step).
enum Descriptor {
  /// Writes all of `bytes` to `fd`; false when it cannot (a pipe whose reader has gone, a
  /// full disk).
  static func writeAll(_ bytes: [UInt8], to fd: Int32) -> Bool {
    var rest = bytes[...]
    while !rest.isEmpty {
      let n = rest.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
      if n < 0, errno == EINTR { continue }
      guard n > 0 else { return false }
      rest = rest.dropFirst(n)
    }
    return true
  }
}
