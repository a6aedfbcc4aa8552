import Foundation

/// A parsed runbook: its front matter, headings and steps, with their lines in the file.
public struct Runbook: Sendable {
  /// A heading of the document.
  public struct Heading: Sendable, Equatable {
    /// 1 to 6.
    public var level: Int
    /// The heading's plain text.
    public var text: String
    /// The line the heading is on.
    public var line: Int
  }

  /// The file as the user named it (used in every diagnostic).
  public var file: String
  /// The file's text, BOM removed and line endings normalised to LF.
  public var source: String
  /// The front matter (empty when there is none).
  public var frontMatter: FrontMatter
  /// The last line of the front matter's closing `---` (0 without front matter).
  public var frontMatterEndLine: Int = 0
  /// The headings in document order.
  public var headings: [Heading]
  /// The steps in document order.
  public var steps: [Step]

  /// The title from front matter, or the first heading, or the file name.
  public var title: String {
    frontMatter.title ?? headings.first?.text
      ?? URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
  }

  /// The roles the steps use, in order of first use.
  public var rolesUsed: [String] {
    var seen: Set<String> = []
    return steps.flatMap(\.attributes.roles).filter { seen.insert($0).inserted }
  }
}

extension Runbook {
  /// Reads and parses the runbook at `path`.
  public static func load(path: String) throws(DiagnosticsError) -> (Runbook, [Diagnostic]) {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw DiagnosticsError([
        Diagnostic(.error, at: nil, "cannot read runbook '\(path)': no such file or not readable")
      ])
    }
    guard let text = String(data: data, encoding: .utf8) else {
      throw DiagnosticsError([.error(path, 1, "runbook is not valid UTF-8 text")])
    }
    return parse(text, file: path)
  }

  /// Whether a fence line of `markdown` carries attributes in Runme's JSON form.
  static func hasRunmeAttributes(_ markdown: String) -> Bool {
    markdown.range(
      of: #"(?m)^[ \t>]*(```|~~~)[^`\n{]*\{\s*""#, options: .regularExpression) != nil
  }

  /// Parses runbook text; problems come back as diagnostics, never as a crash.
  public static func parse(_ text: String, file: String) -> (Runbook, [Diagnostic]) {
    let source = SourceText(text)
    var diagnostics: [Diagnostic] = []
    var frontMatter = FrontMatter()
    if let line = source.unterminatedFrontMatterLine {
      diagnostics.append(
        .error(
          file, line,
          "front matter opened with '\(source.frontMatterDelimiter)' is never closed; end it with a '\(source.frontMatterDelimiter)' line"
        ))
    }
    for problem in source.frontMatterProblems {
      let message = "TOML front matter: " + problem.message
      diagnostics.append(
        problem.isError ? .error(file, problem.line, message) : .note(file, problem.line, message))
    }
    if let yaml = source.frontMatter {
      let (parsed, problems) = FrontMatter.parse(
        yaml, file: file, firstLine: source.frontMatterFirstLine,
        runmeCells: Self.hasRunmeAttributes(source.markdown))
      frontMatter = parsed
      diagnostics += problems
    }

    let document = MarkdownParser.parse(source.markdown)
    var builder = StepBuilder(file: file, text: source.text)
    builder.runmeDocument = frontMatter.isRunme
    builder.runmeTags = frontMatter.runmeTags
    // Runme runs shell cells with the user's $SHELL, which is bash for most: a Runme
    // document's `sh` cells are bash steps unless its `shell:` says otherwise.
    builder.runmeShell = frontMatter.runmeShell ?? (builder.runmeDocument ? "bash" : nil)
    for block in document.blocks { builder.add(block) }
    let (headings, steps, problems) = builder.finish()
    diagnostics += problems

    var runbook = Runbook(
      file: file, source: source.text, frontMatter: frontMatter, headings: headings,
      steps: steps)
    runbook.frontMatterEndLine = source.frontMatterEndLine
    return (runbook, diagnostics)
  }
}

extension Runbook {
  /// The directories a Runme cell's directory is chosen from, in Runme's order: the
  /// document's, then the front matter's `cwd`, then the cell's (`cell`, as rendered);
  /// nil for a step that is not a Runme cell or runs no commands. The document's
  /// directory is this machine's: a cell run on another host (`local` false) starts where
  /// its session is.
  public func runmeDirectories(of step: Step, cell: String?, local: Bool) -> [String]? {
    guard step.attributes.runme, step.kind.handler.runsCommands else { return nil }
    let document = URL(fileURLWithPath: file).standardizedFileURL.deletingLastPathComponent().path
    return [local ? document : nil, frontMatter.runmeCwd, step.attributes.cwd == nil ? nil : cell]
      .compactMap {
        $0
      }.filter { !$0.isEmpty }
  }
}
