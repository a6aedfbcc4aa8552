/// What a session's shell prints on one stream, split into the step's output and the keyed
/// lines of the loop (`SessionProtocol.Marker`, see `HostSession`). Output goes on in
/// whole runs of lines; only a run that holds the key is looked at line by line.
struct SessionOutput {
  /// The words of the keyed lines.
  typealias Word = SessionProtocol.Marker

  /// A piece of what was printed, in order.
  enum Event: Equatable, Sendable {
    /// Output (whole lines, or all but the end of a very long line).
    case output([UInt8])
    /// A keyed line: its word and the words after it.
    case marker(Word, [String])
  }

  /// Bytes kept back of a long line without its end yet: the longest marker's start.
  private static let keep = 64
  /// A line longer than this goes on before its end comes.
  private static let longLine = 65_536

  private let key: [UInt8]
  private let markers: [(word: Word, bytes: [UInt8])]
  private var pending: [UInt8] = []

  /// A splitter for the session whose key is `key`.
  init(key: String) {
    self.key = Array(key.utf8)
    markers = Word.allCases.map { ($0, Array(($0.prefix + key).utf8)) }
  }

  /// The events of `bytes`, after what came before: a line without its end waits for it.
  mutating func feed(_ bytes: [UInt8]) -> [Event] {
    pending += bytes
    var cut = (pending.lastIndex(of: UInt8(ascii: "\n")) ?? -1) + 1
    if cut == 0, pending.count > Self.longLine { cut = pending.count - Self.keep }
    guard cut > 0 else { return [] }
    let region = Array(pending[..<cut])
    pending = Array(pending[cut...])
    guard region.withUnsafeBufferPointer({ ByteSearch.firstIndex(of: key, in: $0) != nil }) else {
      return [.output(region)]
    }
    var events: [Event] = []
    var start = 0
    while start < region.count {
      let end = (region[start...].firstIndex(of: UInt8(ascii: "\n")) ?? (region.count - 1)) + 1
      line(region[start..<end], into: &events)
      start = end
    }
    return events
  }

  /// Forgets a line not yet ended (a new shell of the session starts afresh).
  mutating func reset() { pending = [] }

  private func line(_ line: ArraySlice<UInt8>, into events: inout [Event]) {
    let bytes = Array(line)
    for marker in markers {
      guard
        let at = bytes.withUnsafeBufferPointer({ ByteSearch.firstIndex(of: marker.bytes, in: $0) })
      else { continue }
      // Output without a final newline shares its line with the marker.
      if at > 0 { events.append(.output(Array(bytes[..<at]))) }
      let fields = String(decoding: bytes[(at + marker.bytes.count)...], as: UTF8.self)
        .split(separator: " ").map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
      events.append(.marker(marker.word, fields))
      return
    }
    events.append(.output(bytes))
  }
}
