import Foundation

/// Collects the first line of standard error of a short command.
final class LineBuffer: @unchecked Sendable {
  // `bytes` is only touched under `lock`: output callbacks come from the runner's tasks.
  private let lock = NSLock()
  private var bytes: [UInt8] = []

  func append(_ chunk: [UInt8]) { lock.withLock { if bytes.count < 4096 { bytes += chunk } } }

  var firstLine: String? {
    lock.withLock {
      String(decoding: bytes, as: UTF8.self).split(separator: "\n").first.map {
        String($0).trimmingWhitespace()
      }
    }
  }
}
