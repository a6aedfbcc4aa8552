/// A line diff of two texts (the fewest lines removed and added), for transcripts that did
/// not match and steps edited by hand.
public enum LineDiff {
  /// `-` lines only in `old`, `+` lines only in `new`, `  ` lines in both.
  public static func lines(_ old: [String], _ new: [String]) -> [String] {
    lines(old, new, same: { old[$0] == new[$1] })
  }

  /// The diff where `same(i, j)` says old line `i` and new line `j` are the same line
  /// (shown as the new one), and an old line `wildcard(i)` stands for any number of new
  /// lines (shown once, as itself, the lines it took left out).
  static func lines(
    _ old: [String], _ new: [String], same: (Int, Int) -> Bool,
    wildcard: (Int) -> Bool = { _ in false }
  ) -> [String] {
    let (n, m) = (old.count, new.count)
    // Transcripts and edited steps are short; quadratic is fine, but cap the table.
    guard (n + 1) * (m + 1) <= 4_000_000 else {
      return old.map { "- " + $0 } + new.map { "+ " + $0 }
    }
    let isWildcard = (0..<n).map(wildcard)
    // cost[i][j]: the fewest -/+ lines that align old[i...] with new[j...].
    var cost = Array(repeating: Array(repeating: Int.max / 2, count: m + 1), count: n + 1)
    cost[n][m] = 0
    for i in stride(from: n, through: 0, by: -1) {
      for j in stride(from: m, through: 0, by: -1) where i < n || j < m {
        var best = Int.max / 2
        if i < n, isWildcard[i] {
          best = min(cost[i + 1][j], j < m ? cost[i][j + 1] : best)
        } else if i < n {
          if j < m, same(i, j) { best = cost[i + 1][j + 1] }
          best = min(best, cost[i + 1][j] + 1)
        }
        if j < m { best = min(best, cost[i][j + 1] + 1) }
        cost[i][j] = best
      }
    }
    var out: [String] = []
    var (i, j) = (0, 0)
    while i < n || j < m {
      if i < n, isWildcard[i], j < m, cost[i][j + 1] == cost[i][j] {
        j += 1  // a line the wildcard stands for
      } else if i < n, isWildcard[i], cost[i + 1][j] == cost[i][j] {
        out.append("  " + old[i])
        i += 1
      } else if i < n, !isWildcard[i], j < m, same(i, j), cost[i + 1][j + 1] == cost[i][j] {
        out.append("  " + new[j])
        (i, j) = (i + 1, j + 1)
      } else if i < n, !isWildcard[i], cost[i + 1][j] + 1 == cost[i][j] {
        out.append("- " + old[i])
        i += 1
      } else {
        out.append("+ " + new[j])
        j += 1
      }
    }
    return out
  }
}
