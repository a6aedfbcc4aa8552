import Foundation

/// Substring search on UTF-8 bytes: the hot paths (every output line, every secret) must
/// not go through Foundation's `NSString` search.
enum ByteSearch {
  /// The offset of the first occurrence of `needle` in `haystack` at or after `from`.
  static func firstIndex(of needle: [UInt8], in haystack: UnsafeBufferPointer<UInt8>, from: Int = 0)
    -> Int?
  {
    guard let first = needle.first, from >= 0, haystack.count - from >= needle.count,
      let base = haystack.baseAddress
    else { return nil }
    // memchr finds each candidate first byte: output and reports are searched per chunk,
    // and a byte-by-byte loop showed in the profile.
    let last = haystack.count - needle.count
    var i = from
    return needle.withUnsafeBufferPointer { pattern -> Int? in
      while i <= last {
        guard let hit = memchr(base + i, Int32(first), last - i + 1) else { return nil }
        i = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
        if pattern.count == 1
          || memcmp(base + i + 1, pattern.baseAddress! + 1, pattern.count - 1) == 0
        {
          return i
        }
        i += 1
      }
      return nil
    }
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
