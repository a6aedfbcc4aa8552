/// A place in a source file, as a user sees it: the original file's 1-based line.
public struct SourceLocation: Sendable, Hashable, Comparable, CustomStringConvertible {
  /// The file as the user named it.
  public var file: String
  /// The 1-based line in the original file (front matter included).
  public var line: Int

  /// Creates a location.
  public init(file: String, line: Int) {
    self.file = file
    self.line = line
  }

  /// `FILE:LINE`, the form editors and terminals turn into links.
  public var description: String { "\(file):\(line)" }

  public static func < (lhs: SourceLocation, rhs: SourceLocation) -> Bool {
    (lhs.file, lhs.line) < (rhs.file, rhs.line)
  }
}

/// One problem found in a runbook, an inventory or the arguments, reported with its place.
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
  /// How bad a problem is: errors stop a run before anything executes, warnings do not.
  public enum Severity: String, Sendable, Hashable, Codable {
    case error
    case warning
    /// Information: something runbook leaves alone, said once.
    case note
  }

  /// Whether the problem stops the run.
  public var severity: Severity
  /// Where the problem is; `nil` for problems of the command line itself.
  public var location: SourceLocation?
  /// What is wrong and what to write instead.
  public var message: String

  /// Creates a diagnostic.
  public init(_ severity: Severity, at location: SourceLocation?, _ message: String) {
    self.severity = severity
    self.location = location
    self.message = message
  }

  /// An error at `file:line`.
  public static func error(_ file: String, _ line: Int, _ message: String) -> Diagnostic {
    Diagnostic(.error, at: SourceLocation(file: file, line: line), message)
  }

  /// A warning at `file:line`.
  public static func warning(_ file: String, _ line: Int, _ message: String) -> Diagnostic {
    Diagnostic(.warning, at: SourceLocation(file: file, line: line), message)
  }

  /// A note at `file:line`.
  public static func note(_ file: String, _ line: Int, _ message: String) -> Diagnostic {
    Diagnostic(.note, at: SourceLocation(file: file, line: line), message)
  }

  /// `FILE:LINE: error: message`, the form compilers use.
  public var description: String {
    if let location { return "\(location): \(severity.rawValue): \(message)" }
    return "\(severity.rawValue): \(message)"
  }
}

extension Array where Element == Diagnostic {
  /// Whether any of the diagnostics stops the run.
  public var hasErrors: Bool { contains { $0.severity == .error } }

  /// The diagnostics in file and line order; problems without a place come first, and the
  /// order of discovery is kept among equals so related messages stay together.
  public func sortedByLocation() -> [Diagnostic] {
    enumerated().sorted { a, b in
      switch (a.element.location, b.element.location) {
      case (nil, nil): return a.offset < b.offset
      case (nil, _): return true
      case (_, nil): return false
      case (let l?, let r?): return l == r ? a.offset < b.offset : l < r
      }
    }.map(\.element)
  }
}

/// Problems that stop a command before anything runs, printed together.
public struct DiagnosticsError: Error, Sendable, CustomStringConvertible {
  /// Every problem found, errors and warnings.
  public var diagnostics: [Diagnostic]

  /// Wraps the diagnostics of a failed stage.
  public init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }

  /// One diagnostic per line.
  public var description: String {
    diagnostics.sortedByLocation().map(\.description).joined(separator: "\n")
  }
}
