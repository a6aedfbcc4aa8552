/// Substring search on UTF-8 bytes: the hot paths (every output line, every secret) must
/// not go through Foundation's `NSString` search.
enum ByteSearch {
  /// The offset of the first occurrence of `needle` in `haystack` at or after `from`.
  static func firstIndex(of needle: [UInt8], in haystack: UnsafeBufferPointer<UInt8>, from: Int = 0)
    -> Int?
  {
    guard let first = needle.first, haystack.count - from >= needle.count else { return nil }
    var i = from
    let last = haystack.count - needle.count
    while i <= last {
      if haystack[i] == first {
        var j = 1
        while j < needle.count, haystack[i + j] == needle[j] { j += 1 }
        if j == needle.count { return i }
      }
      i += 1
    }
    return nil
  }

  /// Whether `bytes` contains `pattern`.
  static func contains(_ bytes: [UInt8], _ pattern: String) -> Bool {
    let needle = Array(pattern.utf8)
    return bytes.withUnsafeBufferPointer { firstIndex(of: needle, in: $0) != nil }
  }

  /// `text` with every occurrence of each of `needles` replaced by `replacement`.
  static func replacing(_ needles: [String], in text: String, with replacement: String) -> String {
    var bytes = Array(text.utf8)
    let with = Array(replacement.utf8)
    var changed = false
    for needle in needles.map({ Array($0.utf8) }) where !needle.isEmpty {
      var out: [UInt8] = []
      var start = 0
      var found = false
      bytes.withUnsafeBufferPointer { hay in
        while let at = firstIndex(of: needle, in: hay, from: start) {
          if !found { out.reserveCapacity(hay.count) }
          found = true
          out += hay[start..<at]
          out += with
          start = at + needle.count
        }
        if found { out += hay[start...] }
      }
      if found {
        bytes = out
        changed = true
      }
    }
    return changed ? String(decoding: bytes, as: UTF8.self) : text
  }

  /// Every line of `text` after the first gets `prefix` (the first is the caller's).
  static func prefixingLines(_ text: String, with prefix: String) -> String {
    replacing(["\n"], in: text, with: "\n" + prefix)
  }
}
