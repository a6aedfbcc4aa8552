import Foundation

/// Collects the first line of standard error of a short command.
struct LineBuffer: Sendable {
  private let bytes = Locked<[UInt8]>([])

  func append(_ chunk: [UInt8]) { bytes.withLock { if $0.count < 4096 { $0 += chunk } } }

  /// Every line collected (the first 4 KB), trimmed.
  var lines: [String] {
    String(decoding: bytes.get(), as: UTF8.self).split(separator: "\n").map {
      String($0).trimmingWhitespace()
    }
  }

  var firstLine: String? {
    String(decoding: bytes.get(), as: UTF8.self).split(separator: "\n").first.map {
      String($0).trimmingWhitespace()
    }
  }
}
