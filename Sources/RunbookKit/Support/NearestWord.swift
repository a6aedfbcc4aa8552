/// "Did you mean" for every stage: the known word nearest to one that is not known.
enum NearestWord {
  /// The closest known word within two edits, for "did you mean" hints.
  static func nearest(_ word: String, in candidates: [String]) -> String? {
    // Two words whose lengths differ by more than two are more than two edits apart: a
    // long word (a pasted line) is never compared letter by letter with every candidate.
    let length = word.count
    let scored = candidates.filter { abs($0.count - length) <= 2 }
      .map { ($0, editDistance(word, $0)) }.filter { $0.1 <= 2 }
    return scored.min { $0.1 < $1.1 }?.0
  }

  static func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a)
    let b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
      var current = [i] + Array(repeating: 0, count: b.count)
      for j in 1...b.count {
        current[j] = Swift.min(
          previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
      }
      previous = current
    }
    return previous[b.count]
  }
}
