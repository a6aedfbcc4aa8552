/// The tool's version, written into every report's audit header.
public enum RunbookVersion {
  /// The version string.
  public static let current = "0.1.0"
}
