import Foundation

/// Plain file descriptor I/O, where a `FileHandle` and its `Data` copies cost more than the
/// work itself (a step's script, a session's message: once per step).
enum Descriptor {
  /// How far a write got.
  enum Written { case all, full, failed }

  /// Writes `bytes` from their start until all are written, the descriptor has no room
  /// (`full`: a non-blocking pipe), or the write fails (a pipe whose reader has gone, a full
  /// disk); removes what was written from `bytes`.
  static func write(_ bytes: inout [UInt8], to fd: Int32) -> Written {
    var written = 0
    defer { bytes.removeFirst(written) }
    while written < bytes.count {
      let n = bytes.withUnsafeBytes { all in
        Glibc.write(fd, all.baseAddress! + written, all.count - written)
      }
      if n > 0 {
        written += n
      } else if n < 0, errno == EINTR {
        continue
      } else if n < 0, errno == EAGAIN || errno == EWOULDBLOCK {
        return .full
      } else {
        return .failed
      }
    }
    return .all
  }

  /// Writes all of `bytes` to a blocking `fd`; false when it cannot.
  static func writeAll(_ bytes: [UInt8], to fd: Int32) -> Bool {
    var rest = bytes
    return write(&rest, to: fd) == .all
  }
}
