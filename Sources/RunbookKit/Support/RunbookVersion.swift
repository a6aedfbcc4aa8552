/// The tool's version, written into every report's audit header.
public enum RunbookVersion {
  /// The version string.
  public static let current = "0.1.0"

  /// What `runbook --version` prints: the version and the commit the binary was built from,
  /// `0.1.0 (commit 47949db)`, or `0.1.0 (unknown commit)` for a build from sources that were
  /// not a git work tree.
  public static func described(commit: String?) -> String {
    guard let commit, !commit.isEmpty else { return "\(current) (unknown commit)" }
    return "\(current) (commit \(commit))"
  }
}
