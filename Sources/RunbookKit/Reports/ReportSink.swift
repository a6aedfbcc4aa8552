import Crypto
import Foundation

/// Where a report is written as it is rendered, piece by piece: a large run's report is
/// never built as one string in memory when it goes to a file.
protocol ReportSink {
  mutating func write(_ text: String)
}

/// Collects a report as a string (tests, small reports).
struct StringSink: ReportSink {
  var text = ""
  mutating func write(_ text: String) { self.text += text }
}

/// Writes a report to a file through a 1 MB buffer, hashing it on the way.
struct FileSink: ReportSink {
  private let handle: FileHandle
  private var buffer: [UInt8] = []
  private var hasher = SHA256()
  /// The first write that failed (a full disk): `finish` throws it.
  private var failure: Error?

  init(path: String) throws {
    guard let handle = PrivateFile.create(path) else { throw ReportError("cannot write \(path)") }
    self.handle = handle
    buffer.reserveCapacity(1 << 20)
  }

  mutating func write(_ text: String) {
    buffer.append(contentsOf: text.utf8)
    if buffer.count >= 1 << 20 { flush() }
  }

  private mutating func flush() {
    let data = Data(buffer)
    hasher.update(data: data)
    if failure == nil {
      do { try handle.write(contentsOf: data) } catch { failure = error }
    }
    buffer.removeAll(keepingCapacity: true)
  }

  /// Flushes, closes, and returns the SHA-256 of everything written. No fsync: reports
  /// are rendered again from the journal, which is the record that must survive a crash.
  mutating func finish() throws -> String {
    flush()
    try handle.close()
    if let failure { throw failure }
    return Digest.hex(hasher.finalize())
  }
}

/// Escaping on UTF-8 bytes, with a fast path for the common text that needs none.
enum Escape {
  /// Text for HTML and XML content and attribute values; control characters XML 1.0
  /// cannot carry (all but tab and newline) are dropped.
  static func xml(_ text: String) -> String {
    var needs = false
    for byte in text.utf8
    where byte < 0x20 && byte != 0x09 && byte != 0x0A
      || byte == UInt8(ascii: "&") || byte == UInt8(ascii: "<") || byte == UInt8(ascii: ">")
      || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'")
    {
      needs = true
      break
    }
    guard needs else { return text }
    var out: [UInt8] = []
    out.reserveCapacity(text.utf8.count + 64)
    for byte in text.utf8 {
      switch byte {
      case UInt8(ascii: "&"): out += Array("&amp;".utf8)
      case UInt8(ascii: "<"): out += Array("&lt;".utf8)
      case UInt8(ascii: ">"): out += Array("&gt;".utf8)
      case UInt8(ascii: "\""): out += Array("&quot;".utf8)
      case UInt8(ascii: "'"): out += Array("&#39;".utf8)
      case 0x09, 0x0A: out.append(byte)
      default: if byte >= 0x20 { out.append(byte) }
      }
    }
    return String(decoding: out, as: UTF8.self)
  }
}
